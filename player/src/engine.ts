export interface Quality {
  /** The engine's level index. */
  index: number;
  height: number;
  /** Declared peak bitrate, bit/s. */
  bitrate: number;
}

/**
 * The rendition of a new list (a restarted engine, a new session of the stream) that is the one a
 * viewer picked before: the same height, the nearest bitrate among those.
 */
export function sameQuality(list: readonly Quality[], picked: Pick<Quality, 'height' | 'bitrate'>): Quality | undefined {
  const candidates = list.filter((q) => q.height === picked.height);
  return candidates.sort((a, b) => Math.abs(a.bitrate - picked.bitrate) - Math.abs(b.bitrate - picked.bitrate))[0];
}

export interface LiveEdge {
  /** Seconds between the playhead and the newest media the stream has. */
  latency: number;
  /** The distance the engine aims for; being further behind than this is "behind live". */
  target: number;
}

export interface EngineStats {
  engine: string;
  width: number;
  height: number;
  /** Declared bitrate of the playing rendition, bit/s. */
  bitrate?: number;
  /** The engine's estimate of the viewer's bandwidth, bit/s. */
  bandwidth?: number;
}

/** What an engine tells the player about. */
export interface EngineEvents {
  qualities(list: Quality[]): void;
  /** The rendition now playing, and whether automatic selection picked it. */
  qualityChanged(index: number, auto: boolean): void;
  /** Media arrived after a stall or a recovery. */
  progressed(): void;
  /** An error is being recovered from. */
  recovering(): void;
  /** The engine gave up: the player starts over from the stream's status. */
  failed(): void;
}

/** Plays one HLS URL in the page's video element: hls.js, or the browser's own HLS. */
export interface Engine {
  /** Whether the viewer can pick a rendition. */
  readonly selectableQuality: boolean;
  setQuality(index: number): void;
  liveEdge(): LiveEdge | undefined;
  /** Where "go live" seeks to. */
  liveSyncPosition(): number | undefined;
  stats(): EngineStats;
  destroy(): void;
}
