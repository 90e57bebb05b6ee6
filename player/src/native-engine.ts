import type { Engine, EngineEvents, EngineStats, LiveEdge } from './engine';

/**
 * Safari's hold-back for live HLS is three target durations; the origin's are 2 s. Safari does not
 * say where it aims, so "behind live" is measured against this.
 */
const NATIVE_HOLD_BACK_S = 6;

/** The browser's own HLS (Safari without Media Source Extensions): it picks renditions itself. */
export class NativeEngine implements Engine {
  readonly selectableQuality = false;
  private readonly onError = () => this.events.failed();
  private readonly onProgress = () => this.events.progressed();

  constructor(
    private readonly video: HTMLVideoElement,
    url: string,
    private readonly events: EngineEvents,
  ) {
    video.addEventListener('error', this.onError);
    video.addEventListener('playing', this.onProgress);
    video.src = url;
  }

  setQuality(): void {
    // Safari offers no choice of rendition to pages.
  }

  liveEdge(): LiveEdge | undefined {
    const edge = this.seekableEnd();
    return edge === undefined ? undefined : { latency: Math.max(0, edge - this.video.currentTime), target: NATIVE_HOLD_BACK_S };
  }

  liveSyncPosition(): number | undefined {
    const edge = this.seekableEnd();
    return edge === undefined ? undefined : Math.max(this.video.seekable.start(0), edge - NATIVE_HOLD_BACK_S);
  }

  stats(): EngineStats {
    return { engine: 'native HLS', width: this.video.videoWidth, height: this.video.videoHeight };
  }

  destroy(): void {
    this.video.removeEventListener('error', this.onError);
    this.video.removeEventListener('playing', this.onProgress);
    this.video.removeAttribute('src');
    this.video.load();
  }

  private seekableEnd(): number | undefined {
    const ranges = this.video.seekable;
    return ranges.length > 0 ? ranges.end(ranges.length - 1) : undefined;
  }
}
