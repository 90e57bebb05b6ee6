import type { StreamFiles } from '../packaging/stream-files';
import type { LiveRegistry } from '../live/live-registry';
import type { SessionRepository } from '../live/session-repository';
import type { Logger } from '../observability/logger';
import type { DestinationRepository } from '../restream/destination-repository';
import type { StreamChanges, StreamOptions, StreamRecord } from '../streams/stream-repository';
import type { StreamService } from '../streams/stream-service';
import type { WebhookService } from '../webhooks/webhook-service';

export interface StreamControlDeps {
  streams: StreamService;
  sessions: SessionRepository;
  destinations: Pick<DestinationRepository, 'deleteByStream'>;
  files: StreamFiles;
  webhooks: WebhookService;
  /** The live sessions of this process; the CLI has none and relies on the server noticing. */
  live?: LiveRegistry;
  /** Tells every node to look at the stream now (Redis, when there is one). */
  announce?: (streamId: string) => void;
  /** Whether another node of the cluster has the stream live: it cuts it off when it sees the request. */
  liveElsewhere?: (streamId: string) => boolean;
  /** The stream as webhook receivers see it (never with its key). */
  describe: (stream: StreamRecord) => Record<string, unknown>;
  logger: Logger;
}

/**
 * What operators do to streams, for the API and the CLI alike: the database change, its effect on
 * a live session, the stream's files, and the webhook event. Changes are written to the database
 * first, so that a node running the session (this one, or another) acts on them.
 */
export class StreamControl {
  constructor(private readonly deps: StreamControlDeps) {}

  create(input: { name: string } & Partial<StreamOptions>) {
    return this.deps.streams.create(input);
  }

  /** Disabling a live stream ends its session at once. */
  async update(stream: StreamRecord, changes: StreamChanges): Promise<StreamRecord> {
    const updated = (await this.deps.streams.update(stream.id, changes)) ?? stream;
    if (changes.enabled === false) {
      this.deps.announce?.(stream.id);
      await this.deps.live?.stopStream(stream.id, 'stream_disabled');
    }
    return updated;
  }

  /** The old key stops working at once; with `disconnect` the running publisher is cut off too. */
  async resetKey(stream: StreamRecord, options: { disconnect: boolean }): Promise<string> {
    const key = await this.deps.streams.resetKey(stream.id);
    if (options.disconnect) await this.cut(stream, 'key_reset');
    await this.emit('stream.key_reset', stream, { disconnected: options.disconnect });
    return key;
  }

  /** Ends the live session, here or on the node that has it; false when it is not live anywhere. */
  disconnect(stream: StreamRecord): Promise<boolean> {
    return this.cut(stream, 'kicked');
  }

  /** The stream, its history, its restream destinations and all its media, recordings included. */
  async delete(stream: StreamRecord): Promise<void> {
    await this.deps.live?.stopStream(stream.id, 'stream_deleted');
    await this.deps.streams.delete(stream.id);
    this.deps.announce?.(stream.id);
    await this.deps.sessions.deleteByStream(stream.id);
    await this.deps.destinations.deleteByStream(stream.id);
    await this.deps.files.removeStream(stream.playbackId);
    await this.emit('stream.deleted', stream, {});
  }

  private async cut(stream: StreamRecord, reason: 'kicked' | 'key_reset'): Promise<boolean> {
    await this.deps.streams.requestKick(stream.id);
    this.deps.announce?.(stream.id);
    const here = (await this.deps.live?.stopStream(stream.id, reason)) ?? false;
    return here || (this.deps.liveElsewhere?.(stream.id) ?? false);
  }

  private async emit(type: 'stream.key_reset' | 'stream.deleted', stream: StreamRecord, extra: Record<string, unknown>): Promise<void> {
    try {
      await this.deps.webhooks.emit(type, { stream: this.deps.describe(stream), ...extra });
    } catch (error) {
      this.deps.logger.error({ err: error, type }, 'cannot record a webhook event');
    }
  }
}
