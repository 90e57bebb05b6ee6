export interface ViewerCounterOptions {
  /** A viewer counts for this long after its last live playlist request. */
  windowMs: number;
  /** Viewer ids come from clients: past this many per stream the stalest are dropped. */
  maxViewersPerStream: number;
  now: () => number;
}

/**
 * Concurrent viewers per stream over a sliding window. Players reload a live media playlist about
 * once per target duration, so a player that is still watching is seen again well within the
 * window, and one that left drops out a window after its last request.
 */
export class ViewerCounter {
  /** Per playback id: viewer id → last seen. Maps keep insertion order; a viewer seen again moves to the end, so the oldest come first. */
  private readonly streams = new Map<string, Map<string, number>>();

  constructor(private readonly options: ViewerCounterOptions) {}

  seen(playbackId: string, viewerId: string): void {
    let viewers = this.streams.get(playbackId);
    if (!viewers) {
      viewers = new Map();
      this.streams.set(playbackId, viewers);
    }
    viewers.delete(viewerId);
    viewers.set(viewerId, this.options.now());
    if (viewers.size > this.options.maxViewersPerStream) {
      const stalest = viewers.keys().next().value;
      if (stalest !== undefined) viewers.delete(stalest);
    }
    this.expire(playbackId, viewers);
  }

  count(playbackId: string): number {
    const viewers = this.streams.get(playbackId);
    if (!viewers) return 0;
    this.expire(playbackId, viewers);
    return viewers.size;
  }

  /** Every stream that has viewers now, with their number. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [playbackId, viewers] of this.streams) {
      this.expire(playbackId, viewers);
      if (viewers.size > 0) counts.set(playbackId, viewers.size);
    }
    return counts;
  }

  private expire(playbackId: string, viewers: Map<string, number>): void {
    const cutoff = this.options.now() - this.options.windowMs;
    for (const [viewerId, lastSeen] of viewers) {
      if (lastSeen > cutoff) break;
      viewers.delete(viewerId);
    }
    if (viewers.size === 0) this.streams.delete(playbackId);
  }
}
