import { createClient } from 'redis';
import type { Logger } from '../observability/logger';

const CHANNEL = 'live-origin:stream-changes';
/** A Redis that does not answer at start is done without: the database still carries every change. */
const CONNECT_TIMEOUT_MS = 3000;

type Client = ReturnType<typeof createClient>;

/**
 * Operators' changes to streams (disable, delete, key reset, disconnect), announced to every node
 * at once over Redis pub/sub, so that the node running the stream acts within a moment rather than
 * at its next look at the database. The database stays the record: an announcement only says
 * "look now", and a node that missed one still sees the change at its next look.
 */
export class StreamCommands {
  private constructor(
    private readonly publisher: Client,
    private readonly subscriber: Client,
    private readonly logger: Logger,
  ) {}

  /** Undefined when Redis cannot be reached: the nodes then rely on the database alone. */
  static async connect(url: string, onAnnounced: (streamId: string) => void, logger: Logger): Promise<StreamCommands | undefined> {
    const publisher = createClient({ url, socket: { connectTimeout: CONNECT_TIMEOUT_MS } });
    const subscriber = publisher.duplicate();
    // Reconnection is the client's; each failure is worth a line, not a crash.
    for (const client of [publisher, subscriber]) client.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis'));
    try {
      await Promise.all([publisher.connect(), subscriber.connect()]);
      await subscriber.subscribe(CHANNEL, (message) => onAnnounced(message));
      return new StreamCommands(publisher, subscriber, logger);
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'cannot reach Redis: changes to streams reach other nodes through the database only');
      for (const client of [publisher, subscriber]) client.destroy();
      return undefined;
    }
  }

  announce(streamId: string): void {
    this.publisher.publish(CHANNEL, streamId).catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'cannot announce a stream change'));
  }

  close(): void {
    this.subscriber.destroy();
    this.publisher.destroy();
  }
}
