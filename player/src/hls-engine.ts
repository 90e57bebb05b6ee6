import Hls, { type ErrorData } from 'hls.js';
import type { Engine, EngineEvents, EngineStats, LiveEdge } from './engine';
import { dropUnfilledSkips } from './delta-update';
import { LIVE_HLS_CONFIG } from './hls-config';
import { RecoveryPolicy, type PlaybackErrorKind } from './recovery';

const MANIFEST_ERRORS = new Set<string>([Hls.ErrorDetails.MANIFEST_LOAD_ERROR, Hls.ErrorDetails.MANIFEST_LOAD_TIMEOUT, Hls.ErrorDetails.MANIFEST_PARSING_ERROR]);

/** hls.js on Media Source Extensions: every browser but Safari on older iPhones. */
export class HlsEngine implements Engine {
  readonly selectableQuality = true;
  private readonly hls: Hls;
  private readonly recovery = new RecoveryPolicy(() => performance.now());
  private reloadTimer: number | undefined;
  private destroyed = false;

  constructor(
    private readonly video: HTMLVideoElement,
    url: string,
    private readonly events: EngineEvents,
  ) {
    this.hls = new Hls(LIVE_HLS_CONFIG);
    this.hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
      events.qualities(data.levels.map((level, index) => ({ index, height: level.height, bitrate: level.bitrate })));
    });
    // After hls.js's own handlers, before any of its ticks.
    this.hls.on(Hls.Events.LEVEL_LOADED, (_event, data) => dropUnfilledSkips(data.details));
    this.hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => events.qualityChanged(data.level, this.hls.autoLevelEnabled));
    this.hls.on(Hls.Events.FRAG_BUFFERED, () => {
      this.recovery.progressed();
      events.progressed();
    });
    this.hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) this.recover(data);
    });
    this.hls.attachMedia(video);
    this.hls.loadSource(url);
  }

  setQuality(index: number): void {
    // currentLevel switches now (flushing what is buffered at the old quality): a viewer who picks
    // a quality wants to see it. -1 is Auto.
    this.hls.currentLevel = index;
  }

  liveEdge(): LiveEdge | undefined {
    const target = this.hls.targetLatency;
    const sync = this.hls.liveSyncPosition;
    if (target === null || sync === null) return undefined;
    // hls.latency is only updated on timeupdate, so it stands still while paused; the sync position
    // follows the playlist reloads, which go on.
    return { latency: sync + target - this.video.currentTime, target };
  }

  liveSyncPosition(): number | undefined {
    return this.hls.liveSyncPosition ?? undefined;
  }

  stats(): EngineStats {
    const level = this.hls.levels[this.hls.currentLevel];
    return {
      engine: `hls.js ${Hls.version}`,
      width: this.video.videoWidth,
      height: this.video.videoHeight,
      ...(level && { bitrate: level.bitrate }),
      ...(Number.isFinite(this.hls.bandwidthEstimate) && { bandwidth: this.hls.bandwidthEstimate }),
    };
  }

  destroy(): void {
    this.destroyed = true;
    window.clearTimeout(this.reloadTimer);
    this.hls.destroy();
  }

  private recover(data: ErrorData): void {
    const action = this.recovery.decide(errorKind(data));
    if (action === 'restart') {
      this.events.failed();
      return;
    }
    this.events.recovering();
    if (action === 'recover-media') this.hls.recoverMediaError();
    else if (action === 'swap-audio-codec') {
      this.hls.swapAudioCodec();
      this.hls.recoverMediaError();
    } else {
      // hls.js has already spent its own retries: wait before loading again rather than loop.
      this.reloadTimer = window.setTimeout(() => {
        if (!this.destroyed) this.hls.startLoad();
      }, this.recovery.reloadDelayMs());
    }
  }
}

function errorKind(data: ErrorData): PlaybackErrorKind {
  if (data.type === Hls.ErrorTypes.NETWORK_ERROR) return MANIFEST_ERRORS.has(data.details) ? 'manifest' : 'network';
  if (data.type === Hls.ErrorTypes.MEDIA_ERROR) return 'media';
  return 'other';
}

export function hlsJsSupported(): boolean {
  return Hls.isSupported();
}
