import type { PlayerDom } from './dom';
import type { LiveEdge, Quality } from './engine';
import { QualityMenu } from './quality-menu';

/** What the controls ask of the player; the rest (volume, full screen, stats) they do themselves. */
export interface PlayerActions {
  togglePlay(): void;
  goLive(): void;
  seekBy(seconds: number): void;
  setQuality(index: number): void;
  statsToggled(visible: boolean): void;
}

/** Further behind the live edge than the player aims for by this much, the viewer is "behind live". */
const BEHIND_THRESHOLD_S = 2.5;
const IDLE_AFTER_MS = 3000;
const SEEK_STEP_S = 5;
const VOLUME_STEP = 0.1;

/**
 * The control bar and the keyboard: space/k play and pause, m mutes, f full screen, ←/→ move 5 s,
 * ↑/↓ change the volume, i shows the stats. Every control is a real button, select or slider, so
 * Tab reaches it and screen readers name it.
 */
export class Controls {
  private idleTimer: number | undefined;
  private readonly quality: QualityMenu;
  private statsVisible = false;
  /** Once the viewer has set the sound themselves, the player stops suggesting to unmute. */
  private soundChosen = false;

  constructor(
    private readonly dom: PlayerDom,
    private readonly actions: PlayerActions,
  ) {
    const { root, video, play, mute, volume, liveEdge, quality, qualityMenu, statsToggle, fullscreen, unmute } = dom;
    play.addEventListener('click', () => actions.togglePlay());
    mute.addEventListener('click', () => this.toggleMute());
    unmute.addEventListener('click', () => this.unmute());
    volume.addEventListener('input', () => {
      this.soundChosen = true;
      video.volume = Number(volume.value);
      video.muted = video.volume === 0;
    });
    liveEdge.addEventListener('click', () => actions.goLive());
    this.quality = new QualityMenu(quality, qualityMenu, (index) => actions.setQuality(index));
    statsToggle.addEventListener('click', () => this.toggleStats());
    fullscreen.addEventListener('click', () => this.toggleFullscreen());
    video.addEventListener('volumechange', () => this.syncVolume());
    video.addEventListener('dblclick', () => this.toggleFullscreen());

    let lastPointer = 'mouse';
    video.addEventListener('pointerdown', (event) => (lastPointer = event.pointerType));
    video.addEventListener('click', () => {
      // On a touch screen the first tap shows the controls; with a mouse a click plays or pauses.
      const wasIdle = root.classList.contains('idle');
      this.wake();
      if (lastPointer !== 'touch' || !wasIdle) actions.togglePlay();
    });
    for (const type of ['pointermove', 'pointerdown', 'focusin'] as const) root.addEventListener(type, () => this.wake());
    document.addEventListener('keydown', (event) => this.onKey(event));
    this.syncVolume();
  }

  setQualities(list: Quality[], selected?: number): void {
    this.quality.setQualities(list, selected);
  }

  qualityChanged(index: number, auto: boolean): void {
    this.quality.qualityChanged(index, auto);
  }

  clearQualities(): void {
    this.quality.clear();
  }

  /** The live button: a red dot at the live edge; how far behind, and a way back, otherwise. */
  showLiveEdge(edge: LiveEdge | undefined, active: boolean): void {
    const { liveEdge, liveLabel } = this.dom;
    const behind = edge ? Math.max(0, edge.latency - edge.target) : 0;
    const isBehind = active && behind > BEHIND_THRESHOLD_S;
    liveEdge.disabled = !isBehind;
    liveEdge.classList.toggle('behind', isBehind);
    liveEdge.classList.toggle('at-edge', active && !isBehind);
    if (isBehind) {
      // How far behind is dropped on a narrow screen (player.css), where the bar has no room for it.
      const by = document.createElement('span');
      by.className = 'behind-by';
      by.textContent = `−${Math.round(behind)} s · `;
      liveLabel.replaceChildren(by, 'GO LIVE');
    } else {
      liveLabel.textContent = 'LIVE';
    }
    liveEdge.setAttribute('aria-label', isBehind ? `${Math.round(behind)} seconds behind live: go live` : 'Live');
  }

  /** Autoplay starts muted (browsers allow nothing else): offer the sound, once. */
  offerUnmute(): void {
    const { video, unmute } = this.dom;
    unmute.hidden = this.soundChosen || !video.muted;
  }

  hideUnmute(): void {
    this.dom.unmute.hidden = true;
  }

  /** Controls are shown only while there is something to control. */
  setActive(active: boolean): void {
    this.dom.play.disabled = !active;
    this.dom.root.classList.toggle('has-media', active);
  }

  syncPlayState(): void {
    const { root, video, play } = this.dom;
    root.classList.toggle('paused', video.paused);
    const label = video.paused ? 'Play' : 'Pause';
    play.setAttribute('aria-label', label);
    play.title = `${label} (space)`;
    if (video.paused) this.wake();
    else this.scheduleIdle();
  }

  get showingStats(): boolean {
    return this.statsVisible;
  }

  private onKey(event: KeyboardEvent): void {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target as HTMLElement | null;
    const tag = target?.tagName ?? '';
    // Keys keep their own meaning in form fields; space and Enter on a button press that button.
    if (tag === 'SELECT' || tag === 'TEXTAREA' || target?.isContentEditable) return;
    const inSlider = tag === 'INPUT';
    const onButton = tag === 'BUTTON' || tag === 'A';
    const handled = (() => {
      switch (event.key) {
        case ' ':
        case 'k':
          if (onButton && event.key === ' ') return false;
          this.actions.togglePlay();
          return true;
        case 'm':
          this.toggleMute();
          return true;
        case 'f':
          this.toggleFullscreen();
          return true;
        case 'i':
          this.toggleStats();
          return true;
        case 'ArrowLeft':
        case 'ArrowRight':
          if (inSlider) return false;
          this.actions.seekBy(event.key === 'ArrowLeft' ? -SEEK_STEP_S : SEEK_STEP_S);
          return true;
        case 'ArrowUp':
        case 'ArrowDown':
          if (inSlider) return false;
          this.changeVolume(event.key === 'ArrowUp' ? VOLUME_STEP : -VOLUME_STEP);
          return true;
        default:
          return false;
      }
    })();
    if (handled) {
      event.preventDefault();
      this.wake();
    }
  }

  private toggleMute(): void {
    this.soundChosen = true;
    const { video } = this.dom;
    if (video.muted || video.volume === 0) this.unmute();
    else video.muted = true;
  }

  private unmute(): void {
    this.soundChosen = true;
    const { video } = this.dom;
    video.muted = false;
    if (video.volume === 0) video.volume = 0.5;
  }

  private changeVolume(step: number): void {
    this.soundChosen = true;
    const { video } = this.dom;
    video.volume = Math.min(1, Math.max(0, Math.round((video.volume + step) * 100) / 100));
    video.muted = video.volume === 0;
  }

  private syncVolume(): void {
    const { root, video, mute, volume, unmute } = this.dom;
    const muted = video.muted || video.volume === 0;
    root.classList.toggle('muted', muted);
    mute.setAttribute('aria-label', muted ? 'Unmute' : 'Mute');
    mute.title = `${muted ? 'Unmute' : 'Mute'} (m)`;
    volume.value = String(muted ? 0 : video.volume);
    if (!muted || this.soundChosen) unmute.hidden = true;
  }

  private toggleStats(): void {
    this.statsVisible = !this.statsVisible;
    this.dom.stats.hidden = !this.statsVisible;
    this.dom.statsToggle.setAttribute('aria-pressed', String(this.statsVisible));
    this.actions.statsToggled(this.statsVisible);
  }

  private toggleFullscreen(): void {
    const { root, video } = this.dom;
    if (document.fullscreenElement) {
      void document.exitFullscreen().catch(() => undefined);
    } else if (root.requestFullscreen) {
      void root.requestFullscreen().catch(() => undefined);
    } else {
      // iPhone Safari puts only a video element in full screen.
      (video as HTMLVideoElement & { webkitEnterFullscreen?: () => void }).webkitEnterFullscreen?.();
    }
  }

  /** Controls show on any activity and fade after a while of just watching. */
  private wake(): void {
    this.dom.root.classList.remove('idle');
    this.scheduleIdle();
  }

  private scheduleIdle(): void {
    window.clearTimeout(this.idleTimer);
    this.idleTimer = window.setTimeout(() => {
      if (!this.dom.video.paused && !this.quality.isOpen) this.dom.root.classList.add('idle');
    }, IDLE_AFTER_MS);
  }
}
