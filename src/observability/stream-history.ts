import type { LiveSession } from '../live/live-session';

export interface StreamSample {
  /** Milliseconds since the epoch. */
  at: number;
  ingestKbps: number | null;
  viewers: number;
  transcoderSpeed: number | null;
}

export interface StreamHistoryOptions {
  intervalMs: number;
  keepMs: number;
  /** The live sessions of this node now. */
  sessions: () => LiveSession[];
  viewers: (playbackId: string) => number;
  now: () => number;
}

/**
 * The last hour of each stream live on this node, a sample every `intervalMs`: ingest bitrate,
 * viewers and transcoder speed, for the console's graphs (GET /api/v1/streams/:id/stats). Kept in
 * memory only: a restart starts it again, and in a cluster the node with the stream has it.
 */
export class StreamHistory {
  private readonly samples = new Map<string, StreamSample[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StreamHistoryOptions) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Oldest first. */
  of(streamId: string): StreamSample[] {
    return this.samples.get(streamId) ?? [];
  }

  sample(): void {
    const at = this.options.now();
    const since = at - this.options.keepMs;
    for (const session of this.options.sessions()) {
      const info = session.info();
      const list = this.samples.get(session.stream.id) ?? [];
      list.push({
        at,
        ingestKbps: info.ingest.bitrateKbps ?? null,
        viewers: this.options.viewers(session.stream.playbackId),
        transcoderSpeed: info.transcoder?.speed ?? null,
      });
      this.samples.set(session.stream.id, list);
    }
    for (const [streamId, list] of this.samples) {
      const kept = list.filter((sample) => sample.at >= since);
      if (kept.length === 0) this.samples.delete(streamId);
      else if (kept.length !== list.length) this.samples.set(streamId, kept);
    }
  }
}
