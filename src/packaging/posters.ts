import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { buildPosterArgs } from '../transcode/ffmpeg-args';
import { Transcoder } from '../transcode/transcoder';

/** Where a live stream's newest picture is: its newest segment of a video rendition. */
export interface PosterSource {
  /** A segment of a video rendition, and the init segment it is read after. */
  init: string;
  segment: string;
  width: number;
  height: number;
}

export interface PostersOptions {
  ffmpegPath: string;
  /** A live stream's poster is made again when it is older than this. */
  intervalMs: number;
  /** Renders at once, for the whole origin; more wait their turn. */
  maxRenders: number;
  /** A render that takes longer is stopped (and the poster left as it was). */
  timeoutMs: number;
  /** The poster file of a stream. */
  posterPath: (playbackId: string) => string;
  /** The newest picture of a stream that is live on this node, if it has one yet. */
  sourceOf: (playbackId: string) => PosterSource | undefined;
  now: () => number;
  logger: Logger;
  metrics: Metrics;
}

interface Made {
  at: number;
  segment: string;
}

/**
 * Posters made when asked for, not continuously: decoding a keyframe of every segment of every
 * stream cost a passthrough stream about as much CPU as copying it (docs/decisions.md), for a
 * picture most streams never have requested. The first request for a live stream's poster after
 * the interval makes one from the newest segment (one keyframe decoded by a short-lived ffmpeg) and
 * is answered once it is written; other requests meanwhile wait for the same render. When a
 * session ends its last picture is made, to stay as the stream's poster.
 */
export class Posters {
  private readonly made = new Map<string, Made>();
  private readonly pending = new Map<string, Promise<void>>();
  private readonly running = new Set<Transcoder>();
  private readonly queue: Array<() => void> = [];
  private active = 0;
  private closed = false;

  constructor(private readonly options: PostersOptions) {}

  /** Whether a live stream's poster can be made now (it has a segment with video). */
  canMake(playbackId: string): boolean {
    return this.options.sourceOf(playbackId) !== undefined;
  }

  /** Before a poster is served: a live stream's is made if it is older than the interval. */
  refresh(playbackId: string): Promise<void> {
    const pending = this.pending.get(playbackId);
    if (pending) return pending;
    const made = this.made.get(playbackId);
    if (made && this.options.now() - made.at < this.options.intervalMs) return Promise.resolve();
    const source = this.options.sourceOf(playbackId);
    return source ? this.make(playbackId, source) : Promise.resolve();
  }

  /** A session is ending: its last picture becomes the stream's poster. */
  async keepLast(playbackId: string, source: PosterSource): Promise<void> {
    await this.make(playbackId, source);
    this.made.delete(playbackId);
  }

  /** No new renders; the running ones are stopped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const start of this.queue.splice(0)) start();
    await Promise.all([...this.running].map((render) => render.stop(0)));
  }

  private make(playbackId: string, source: PosterSource): Promise<void> {
    const existing = this.pending.get(playbackId);
    if (existing) return existing;
    // The same segment makes the same picture (a publisher gone, reconnecting).
    if (this.made.get(playbackId)?.segment === source.segment) return Promise.resolve();
    const render = this.render(playbackId, source).finally(() => this.pending.delete(playbackId));
    this.pending.set(playbackId, render);
    return render;
  }

  private async render(playbackId: string, source: PosterSource): Promise<void> {
    await this.turn();
    try {
      if (this.closed) return;
      this.made.set(playbackId, { at: this.options.now(), segment: source.segment });
      const render = new Transcoder({ ffmpegPath: this.options.ffmpegPath, logger: this.options.logger, stopGraceMs: 0 });
      this.running.add(render);
      render.start(buildPosterArgs({ ...source, target: this.options.posterPath(playbackId) }));
      render.endInput();
      const timer = setTimeout(() => void render.stop(0), this.options.timeoutMs);
      const exit = await render.exited;
      clearTimeout(timer);
      this.running.delete(render);
      const ok = exit.code === 0;
      this.options.metrics.posterRenders.inc({ result: ok ? 'ok' : 'failed' });
      if (!ok && !this.closed) {
        this.options.logger.warn(
          { playbackId, segment: source.segment, code: exit.code, signal: exit.signal, stderr: exit.stderrTail.slice(-4), spawnError: exit.spawnError },
          'cannot make the poster',
        );
      }
    } finally {
      this.active -= 1;
      this.queue.shift()?.();
    }
  }

  private turn(): Promise<void> {
    this.active += 1;
    if (this.active <= this.options.maxRenders || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.queue.push(resolve));
  }
}
