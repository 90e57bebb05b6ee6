import os from 'node:os';
import type { LiveRegistry } from '../live/live-registry';
import type { Logger } from '../observability/logger';
import { PeriodicTask } from '../periodic-task';
import type { NodeIdentity, NodeRegistry } from './node-registry';
import type { StreamLeases } from './stream-leases';

/**
 * Keeps this node's place in the cluster: renews the leases of its live streams, ending any session
 * whose lease it can no longer vouch for, and tells the other nodes it is alive and how loaded.
 */
export class ClusterHeartbeat {
  private readonly task: PeriodicTask;

  constructor(
    private readonly deps: { self: NodeIdentity; nodes: NodeRegistry; leases: StreamLeases; live: LiveRegistry; intervalMs: number; logger: Logger },
  ) {
    this.task = new PeriodicTask(deps.intervalMs, () => this.beat(), (error) => deps.logger.warn({ err: error }, 'cannot reach the database for the cluster heartbeat'));
  }

  /** The first beat is awaited: a node is listed before it takes publishes. */
  async start(): Promise<void> {
    await this.task.run();
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
    await this.deps.leases.releaseAll();
    await this.deps.nodes.leave(this.deps.self.id);
  }

  private async beat(): Promise<void> {
    const { nodes, leases, live, logger } = this.deps;
    const sessions = live.list();
    const { lost, error } = await leases.renew(sessions.map((session) => session.stream.id));
    for (const streamId of lost) {
      logger.error({ playbackId: live.getByStreamId(streamId)?.stream.playbackId }, 'lost the lease of a live stream: ending its session so that it has one owner');
      void live.stopStream(streamId, 'lease_lost');
    }
    if (error) throw error;
    await nodes.beat(this.deps.self, { liveSessions: sessions.length, load: os.loadavg()[0]! / os.availableParallelism() });
  }
}
