import { Controls } from './controls';
import type { PlayerDom } from './dom';
import { sameQuality, type Engine, type EngineEvents, type Quality } from './engine';
import { bufferAhead, droppedFrames, renderStats } from './stats-overlay';
import { fetchStatus, type PublicStatus, type StatusResult } from './status';
import { reportPresence, withViewerSession } from './viewer-session';

export type PlayerState =
  'connecting' | 'offline' | 'loading' | 'blocked' | 'playing' | 'paused' | 'buffering' | 'recovering' | 'ended' | 'missing' | 'expired' | 'private' | 'unsupported';

export type EngineFactory = (video: HTMLVideoElement, url: string, events: EngineEvents) => Engine | undefined;

/** What the overlay says in each state; never an error string from the browser or hls.js. */
const NOTICES: Record<PlayerState, { title?: string; text?: string; busy?: boolean } | undefined> = {
  connecting: { text: 'Loading…', busy: true },
  loading: { text: 'Loading…', busy: true },
  offline: { title: 'Offline', text: 'This stream is not live right now. It will start here by itself when it goes live.' },
  blocked: { title: 'Ready', text: 'Press play to start.' },
  playing: undefined,
  paused: undefined,
  buffering: { text: 'Buffering…', busy: true },
  recovering: { text: 'Reconnecting…', busy: true },
  ended: { title: 'Stream ended', text: 'Thanks for watching. If the stream comes back, it will play here.' },
  missing: { title: 'Not found', text: 'This stream does not exist.' },
  expired: { title: 'Link expired', text: 'Your link to this private stream has expired. Ask whoever invited you for a new one.' },
  private: { title: 'Private stream', text: 'This stream can only be watched with an invitation link, and this link does not open it.' },
  unsupported: { title: 'Cannot play here', text: 'This browser cannot play this stream. A current Chrome, Edge, Firefox or Safari can.' },
};

const POLL_MS = 5000;
const TICK_MS = 1000;
/** Well within the origin's viewers.windowSeconds (10 s): one lost report does not drop the viewer. */
const PRESENCE_MS = 4000;
/** A playing video that has not moved for this long while the stream says it is idle has ended. */
const ENDED_STALL_MS = 8000;
const MAX_RESTART_DELAY_MS = 15_000;
/** A player just started that is further than this behind its place moves there (see settle()). */
const START_BEHIND_S = 1;
/** How long after playback starts the player may still move to its place. */
const START_SETTLE_MS = 15_000;
/**
 * Media that must be buffered from its place on before it moves there: with less it would stall at
 * once. Never more than half the distance it keeps from the live edge (about a second with parts),
 * which is all there is to buffer there.
 */
const START_BUFFERED_S = 2;

/**
 * The watch page's player: follows the stream's public status, starts an engine when it is live,
 * shows offline, ended and recovery states, and starts again by itself when the stream comes back.
 */
export class Player implements EngineEvents {
  private engine: Engine | undefined;
  private current: PlayerState = 'connecting';
  private status: PublicStatus | undefined;
  private pollTimer: number | undefined;
  private restartDelayMs = 1000;
  private lastMove = { time: -1, at: 0 };
  private firstFrameMarked = false;
  /** While a newly started engine may still move to its place: until when, once it plays. */
  private settling: { until: number | undefined } | undefined;
  private readonly controls: Controls;
  /** The renditions of the playing engine, and the one the viewer picked (none: Auto). */
  private qualityList: Quality[] = [];
  private picked: Quality | undefined;

  constructor(
    private readonly dom: PlayerDom,
    private readonly playbackId: string,
    private readonly viewerSession: string,
    private readonly createEngine: EngineFactory,
  ) {
    this.controls = new Controls(dom, {
      togglePlay: () => this.togglePlay(),
      goLive: () => this.goLive(),
      seekBy: (seconds) => this.seekBy(seconds),
      setQuality: (index) => {
        this.picked = this.qualityList.find((q) => q.index === index);
        this.engine?.setQuality(index);
      },
      statsToggled: (visible) => visible && this.renderStats(),
    });
    const { video } = dom;
    video.addEventListener('playing', () => this.onPlaying());
    video.addEventListener('pause', () => {
      // Paused once playing: the viewer has taken over from settle().
      if (this.settling?.until !== undefined) this.settling = undefined;
      this.controls.syncPlayState();
      if (this.engine && !video.ended) this.setState('paused');
    });
    video.addEventListener('play', () => this.controls.syncPlayState());
    video.addEventListener('waiting', () => {
      if (this.engine && !video.paused) this.setState('buffering');
    });
    video.addEventListener('ended', () => this.streamEnded());
    window.setInterval(() => this.tick(), TICK_MS);
    // Counted while an engine plays the live stream, as when viewers were counted by their playlist requests.
    window.setInterval(() => {
      if (this.engine && this.status?.status === 'live') reportPresence(this.status.hlsUrl, this.viewerSession);
    }, PRESENCE_MS);
    this.render();
  }

  /** Starts from the status the page came with, if any, and keeps following it. */
  begin(initial: PublicStatus | undefined): void {
    if (initial) this.apply({ kind: 'ok', status: initial });
    this.schedulePoll(initial ? POLL_MS : 0);
  }

  // EngineEvents
  qualities(list: Quality[]): void {
    this.qualityList = list;
    // A viewer's pick outlives the engine: after a recovery or a new session of the stream, the
    // same rendition again if there is one.
    const again = this.picked && sameQuality(list, this.picked);
    this.controls.setQualities(list, again?.index);
    if (again) this.engine?.setQuality(again.index);
  }

  qualityChanged(index: number, auto: boolean): void {
    this.controls.qualityChanged(index, auto);
  }

  progressed(): void {
    this.settle();
    this.restartDelayMs = 1000;
    if (this.current === 'recovering') this.setState(this.dom.video.paused ? 'paused' : 'playing');
  }

  recovering(): void {
    this.setState('recovering');
  }

  failed(): void {
    this.stopEngine();
    this.setState('recovering');
    // Start over from the status after a pause that grows while failures repeat.
    this.schedulePoll(this.restartDelayMs);
    this.restartDelayMs = Math.min(MAX_RESTART_DELAY_MS, this.restartDelayMs * 2);
  }

  private schedulePoll(delayMs: number): void {
    window.clearTimeout(this.pollTimer);
    this.pollTimer = window.setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    const result = await fetchStatus(this.playbackId);
    this.apply(result);
    // A token that is refused stays refused, unless it is only not valid yet.
    if (result.kind !== 'denied' || result.code === 'token_not_yet_valid') this.schedulePoll(POLL_MS);
  }

  private apply(result: StatusResult): void {
    if (result.kind === 'unreachable') return;
    if (result.kind === 'denied') {
      // A private stream's token expired (or was revoked) while playing: the media requests were
      // refused, and the status says why.
      this.stopEngine();
      this.status = undefined;
      this.dom.badge.hidden = true;
      this.dom.viewers.hidden = true;
      this.setState(result.code === 'token_expired' || result.code === 'token_revoked' ? 'expired' : 'private');
      return;
    }
    if (result.kind === 'missing') {
      if (!this.engine) this.setState('missing');
      return;
    }
    const { status } = result;
    this.status = status;
    this.renderStatus(status);
    if (status.status === 'live') {
      if (!this.engine && this.current !== 'unsupported') this.startEngine(status.hlsUrl);
    } else if (!this.engine) {
      if (this.current !== 'ended') this.setState('offline');
    } else if (this.dom.video.paused || this.stalledFor() >= ENDED_STALL_MS) {
      // The playlists' end normally ends playback ("ended" event), which a paused video never
      // reaches; this also covers a player stuck short of it.
      this.streamEnded();
    }
  }

  private startEngine(hlsUrl: string): void {
    this.setState('loading');
    this.lastMove = { time: -1, at: performance.now() };
    const engine = this.createEngine(this.dom.video, withViewerSession(hlsUrl, this.viewerSession), this);
    if (!engine) {
      this.setState('unsupported');
      return;
    }
    this.engine = engine;
    reportPresence(hlsUrl, this.viewerSession);
    this.settling = { until: undefined };
    this.controls.setActive(true);
    this.dom.video.play().catch(() => {
      // Autoplay refused even muted (some browsers' settings): the viewer starts it.
      if (this.engine && this.dom.video.paused) this.setState('blocked');
    });
  }

  private stopEngine(): void {
    this.settling = undefined;
    this.engine?.destroy();
    this.engine = undefined;
    this.controls.setActive(false);
    this.controls.clearQualities();
  }

  private streamEnded(): void {
    this.stopEngine();
    this.setState('ended');
  }

  private onPlaying(): void {
    this.controls.syncPlayState();
    if (!this.engine) return;
    this.restartDelayMs = 1000;
    this.setState('playing');
    this.controls.offerUnmute();
    const { video } = this.dom;
    if (this.settling && this.settling.until === undefined) this.settling.until = performance.now() + START_SETTLE_MS;
    this.settle();
    if (!this.firstFrameMarked) {
      this.firstFrameMarked = true;
      // For measuring startup (performance.getEntriesByName('first-frame')): when the first frame is shown.
      if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(() => performance.mark('first-frame'));
      else performance.mark('first-frame');
    }
  }

  /**
   * hls.js picks where a live stream starts when it first reads the playlist. When the first
   * segments then take long to arrive (a slow network, a busy phone), playback begins that much
   * further behind the live edge than the player means to be, and catching up at 1.1× speed takes
   * a minute, with "GO LIVE" showing. Nothing has been watched yet: the player moves to its place
   * once that and a little after it are buffered, unless the viewer has taken over (a pause, a seek).
   */
  private settle(): void {
    const { video } = this.dom;
    const until = this.settling?.until;
    if (until === undefined) return;
    if (performance.now() > until) {
      this.settling = undefined;
      return;
    }
    const place = this.engine?.liveSyncPosition();
    const ahead = Math.min(START_BUFFERED_S, (this.engine?.liveEdge()?.target ?? Infinity) / 2);
    if (place === undefined || place - video.currentTime < START_BEHIND_S || !isBuffered(video.buffered, place, place + ahead)) return;
    this.settling = undefined;
    video.currentTime = place;
  }

  private togglePlay(): void {
    const { video } = this.dom;
    if (!this.engine) return;
    if (video.paused) void video.play().catch(() => undefined);
    else video.pause();
  }

  private goLive(): void {
    this.settling = undefined;
    const position = this.engine?.liveSyncPosition();
    if (position === undefined) return;
    this.dom.video.currentTime = position;
    void this.dom.video.play().catch(() => undefined);
  }

  private seekBy(seconds: number): void {
    const { video } = this.dom;
    if (!this.engine || video.seekable.length === 0) return;
    this.settling = undefined;
    const start = video.seekable.start(0);
    // Forward never past where the player would sit at the live edge.
    const end = this.engine.liveSyncPosition() ?? video.seekable.end(video.seekable.length - 1);
    video.currentTime = Math.min(end, Math.max(start, video.currentTime + seconds));
  }

  /** How long a video that should be playing has not moved, in ms. */
  private stalledFor(): number {
    const { video } = this.dom;
    if (video.paused) return 0;
    return performance.now() - this.lastMove.at;
  }

  private tick(): void {
    this.settle();
    const { video } = this.dom;
    if (video.currentTime !== this.lastMove.time) this.lastMove = { time: video.currentTime, at: performance.now() };
    this.controls.showLiveEdge(this.engine?.liveEdge(), this.engine !== undefined && this.current !== 'loading');
    if (this.controls.showingStats) this.renderStats();
  }

  private renderStats(): void {
    const { video, stats } = this.dom;
    renderStats(stats, {
      engine: this.engine?.stats() ?? { engine: '–', width: 0, height: 0 },
      edge: this.engine?.liveEdge(),
      bufferAhead: bufferAhead(video),
      dropped: droppedFrames(video),
    });
  }

  private setState(state: PlayerState): void {
    if (this.current === state) return;
    this.current = state;
    this.render();
  }

  private render(): void {
    const { root, overlay, title, message, spinner } = this.dom;
    root.dataset.state = this.current;
    const notice = NOTICES[this.current];
    overlay.hidden = notice === undefined;
    title.textContent = notice?.title ?? '';
    message.textContent = notice?.text ?? '';
    spinner.hidden = !notice?.busy;
    if (this.current !== 'playing' && this.current !== 'paused') this.controls.hideUnmute();
    if (this.status) this.renderStatus(this.status);
  }

  private renderStatus(status: PublicStatus): void {
    const { badge, viewers, video } = this.dom;
    const live = status.status === 'live';
    badge.hidden = !live;
    // Zero would be this viewer before its first playlist request has been counted.
    viewers.hidden = !live || status.viewers === 0;
    viewers.textContent = status.viewers === 1 ? '1 watching' : `${status.viewers} watching`;
    // While nothing plays, the stream's last picture (kept for a while after it ends).
    if (status.posterUrl) video.poster = status.posterUrl;
    else video.removeAttribute('poster');
  }
}

/** Whether one buffered range holds all of [from, to]. */
function isBuffered(ranges: TimeRanges, from: number, to: number): boolean {
  for (let i = 0; i < ranges.length; i++) if (ranges.start(i) <= from && to <= ranges.end(i)) return true;
  return false;
}
