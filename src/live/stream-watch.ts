import type { Logger } from '../observability/logger';
import { PeriodicTask } from '../periodic-task';
import type { DestinationRecord, DestinationRepository } from '../restream/destination-repository';
import type { StreamService } from '../streams/stream-service';
import type { LiveRegistry } from './live-registry';

/**
 * Changes made elsewhere (the CLI, another node's API) reach this node's sessions through the
 * database: a deleted or disabled stream, or a kick requested after the session started, ends it;
 * restream destinations added or removed start or stop their pushes.
 */
export class StreamWatch {
  private readonly task: PeriodicTask;

  constructor(
    private readonly registry: LiveRegistry,
    private readonly streams: StreamService,
    private readonly destinations: Pick<DestinationRepository, 'listByStreams'>,
    intervalMs: number,
    logger: Logger,
  ) {
    this.task = new PeriodicTask(
      intervalMs,
      () => this.checkOnce(),
      (error) => logger.warn({ err: error }, 'cannot check live streams against the database'),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  check(): Promise<void> {
    return this.task.run();
  }

  /** A change was announced: looked at now, or once more after the look in progress. */
  wake(): void {
    this.task.wake();
  }

  private async checkOnce(): Promise<void> {
    const sessions = this.registry.list().filter((session) => session.state !== 'ending' && session.state !== 'ended');
    if (sessions.length === 0) return;
    const current = new Map((await this.streams.findByIds(sessions.map((s) => s.stream.id))).map((stream) => [stream.id, stream]));
    const going = sessions.filter((session) => {
      const stream = current.get(session.stream.id);
      if (!stream) void session.stop('stream_deleted');
      else if (!stream.enabled) void session.stop('stream_disabled');
      else if (stream.kickRequestedAt !== null && stream.kickRequestedAt >= session.startedAt) void session.stop('kicked');
      else return true;
      return false;
    });
    if (going.length === 0) return;
    const byStream = new Map<string, DestinationRecord[]>();
    for (const destination of await this.destinations.listByStreams(going.map((s) => s.stream.id))) {
      const list = byStream.get(destination.streamId);
      if (list) list.push(destination);
      else byStream.set(destination.streamId, [destination]);
    }
    for (const session of going) session.applyRestream(byStream.get(session.stream.id) ?? []);
  }
}
