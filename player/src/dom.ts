/** The elements of player/watch.html the scripts work with, found once. */
export interface PlayerDom {
  root: HTMLElement;
  video: HTMLVideoElement;
  overlay: HTMLElement;
  spinner: HTMLElement;
  title: HTMLElement;
  message: HTMLElement;
  badge: HTMLElement;
  viewers: HTMLElement;
  unmute: HTMLButtonElement;
  stats: HTMLElement;
  controls: HTMLElement;
  play: HTMLButtonElement;
  mute: HTMLButtonElement;
  volume: HTMLInputElement;
  liveEdge: HTMLButtonElement;
  liveLabel: HTMLElement;
  quality: HTMLButtonElement;
  qualityMenu: HTMLElement;
  statsToggle: HTMLButtonElement;
  fullscreen: HTMLButtonElement;
}

export function findPlayerDom(document: Document): PlayerDom {
  const root = document.getElementById('player');
  if (!root) throw new Error('the page has no #player');
  const role = <T extends Element>(name: string): T => {
    const element = document.querySelector<T>(`[data-role="${name}"]`);
    if (!element) throw new Error(`the page has no [data-role=${name}]`);
    return element;
  };
  return {
    root,
    video: role('video'),
    overlay: role('overlay'),
    spinner: role('spinner'),
    title: role('title'),
    message: role('message'),
    badge: role('badge'),
    viewers: role('viewers'),
    unmute: role('unmute'),
    stats: role('stats'),
    controls: role('controls'),
    play: role('play'),
    mute: role('mute'),
    volume: role('volume'),
    liveEdge: role('live-edge'),
    liveLabel: role('live-label'),
    quality: role('quality'),
    qualityMenu: role('quality-menu'),
    statsToggle: role('stats-toggle'),
    fullscreen: role('fullscreen'),
  };
}
