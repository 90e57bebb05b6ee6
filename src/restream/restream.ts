import type { MediaTag, VideoCodec } from '../ingest/media';
import type { Logger } from '../observability/logger';
import { DestinationPush, type PushSettings, type PushStart } from './destination-push';
import type { DestinationRecord, DestinationRepository, DestinationStatus } from './destination-repository';

export interface RestreamDeps {
  streamId: string;
  destinations: Pick<DestinationRepository, 'listByStream' | 'setStatus'>;
  settings: PushSettings;
  now: () => number;
  logger: Logger;
  /** A destination refused or dropped the stream (the webhook event). */
  onFailure: (destination: Pick<DestinationRecord, 'id' | 'url'>, error: string) => void;
}

/** ffmpeg 5.1 writes no Enhanced RTMP: only an H.264 (or audio-only) source can be copied to a platform. */
const RESTREAMABLE: ReadonlySet<VideoCodec> = new Set(['h264']);

/**
 * A live session's restreaming: one push per destination of the stream, each on its own (a
 * destination that fails is retried without touching the others, the publish or the HLS output),
 * fed the publisher's tags as they arrive, kept through a publisher's reconnect, stopped with the
 * session.
 */
export class Restream {
  private readonly pushes = new Map<string, DestinationPush>();
  private start: PushStart | undefined;
  private refused: string | undefined;
  private stopped = false;

  /** Destinations changed later reach it through reload() (here) or apply() (the stream watch). */
  constructor(private readonly deps: RestreamDeps) {
    void this.reload();
  }

  /** A publisher's tracks are known (the first, or one that came back). */
  begin(start: PushStart, videoCodec: VideoCodec | undefined): void {
    this.start = start;
    this.refused =
      videoCodec !== undefined && !RESTREAMABLE.has(videoCodec)
        ? `${videoCodec.toUpperCase()} cannot be restreamed: this origin's ffmpeg writes no Enhanced RTMP; send H.264 to restream`
        : undefined;
    for (const push of this.pushes.values()) this.startPush(push);
  }

  write(tag: MediaTag): void {
    for (const push of this.pushes.values()) push.write(tag);
  }

  /** Where each destination stands, for the metrics. */
  statuses(): DestinationStatus[] {
    return [...this.pushes.values()].map((push) => push.status);
  }

  /** Reads the stream's destinations again and applies them. */
  async reload(): Promise<void> {
    if (this.stopped) return;
    try {
      this.apply(await this.deps.destinations.listByStream(this.deps.streamId));
    } catch (error) {
      this.deps.logger.warn({ err: (error as Error).message }, 'cannot read the restream destinations');
    }
  }

  /** The stream's destinations as they are now: new ones start, removed ones stop. */
  apply(destinations: DestinationRecord[]): void {
    if (this.stopped) return;
    const wanted = new Set(destinations.map((d) => d.id));
    for (const [id, push] of this.pushes) {
      if (wanted.has(id)) continue;
      this.pushes.delete(id);
      void push.stop();
    }
    for (const destination of destinations) {
      if (this.pushes.has(destination.id)) continue;
      const push = new DestinationPush(
        { id: destination.id, url: destination.url, streamKey: destination.streamKey },
        this.deps.settings,
        {
          status: (status, lastError) => this.record(destination.id, status, lastError),
          failed: (error) => this.deps.onFailure(destination, error),
        },
        this.deps.logger.child({ destination: destination.id }),
      );
      this.pushes.set(destination.id, push);
      if (this.start) this.startPush(push);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([...this.pushes.values()].map((push) => push.stop()));
  }

  private startPush(push: DestinationPush): void {
    if (this.refused) push.refuse(this.refused);
    else push.begin(this.start!);
  }

  private record(id: string, status: DestinationStatus, lastError: string | null): void {
    this.deps.destinations
      .setStatus(id, status, lastError, this.deps.now())
      .catch((error: unknown) => this.deps.logger.warn({ err: (error as Error).message }, 'cannot record a restream destination status'));
  }
}
