import os from 'node:os';
import type { LiveRegistry } from '../live/live-registry';
import type { Logger } from '../observability/logger';
import { PeriodicTask } from '../periodic-task';
import type { LiveElsewhere } from './live-elsewhere';
import type { NodeIdentity, NodeRegistry } from './node-registry';
import type { StreamLeases } from './stream-leases';

/** What is not urgent (forgetting old nodes, closing orphaned sessions) is done every this many beats. */
const HOUSEKEEPING_BEATS = 10;

export interface HeartbeatDeps {
  /** Closes sessions left open by nodes gone since before the given time; how many. */
  closeOrphans: (goneBefore: number) => Promise<number>;
  /** How long a gone node's open sessions wait for their publishers to come back elsewhere. */
  orphanAfterMs: number;
  now: () => number;
  self: NodeIdentity;
  nodes: NodeRegistry;
  leases: StreamLeases;
  live: LiveRegistry;
  /** This node's viewers of a stream. */
  viewers: (playbackId: string) => number;
  elsewhere: LiveElsewhere;
  /** Whether this node passes viewers of other nodes' streams on to them (CLUSTER_SECRET is set). */
  hops: boolean;
  /** An operator asked this node to drain (through the API of any node). */
  onDrainRequested: (deadlineAt: number) => void;
  intervalMs: number;
  logger: Logger;
}

/**
 * Keeps this node's place in the cluster: renews the leases of its live streams, ending any session
 * whose lease it can no longer vouch for, publishes their viewer counts, learns what is live on the
 * other nodes, and tells them it is alive and how loaded.
 */
export class ClusterHeartbeat {
  private readonly task: PeriodicTask;
  private warnedNoHop = false;
  /** Whether another node was up at the last heartbeat that reached the database. */
  private othersUp = false;
  private beats = 0;

  constructor(private readonly deps: HeartbeatDeps) {
    this.task = new PeriodicTask(
      deps.intervalMs,
      () => this.beat(),
      (error) => deps.logger.warn({ err: error }, 'cannot reach the database for the cluster heartbeat'),
    );
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
    const { nodes, leases, live, viewers, elsewhere, logger } = this.deps;
    const sessions = live.list();
    const { lost, lapsing, error } = await leases.renew(sessions.map((session) => session.stream.id));
    for (const streamId of lost) {
      logger.error({ playbackId: live.getByStreamId(streamId)?.stream.playbackId }, 'another node took a stream live here: ending its session here');
      void live.stopStream(streamId, 'lease_lost');
    }
    // Cut off from the database, a node gives its streams up before others may take them, so that
    // their publishers reconnect to a node that can go on. Alone, it keeps them: nobody else could
    // take them, and a database outage must not end every stream.
    if (this.othersUp) {
      for (const streamId of lapsing) {
        logger.error({ playbackId: live.getByStreamId(streamId)?.stream.playbackId }, 'cannot renew a stream lease: ending the session so that another node can take the stream');
        void live.stopStream(streamId, 'lease_lost');
      }
    }
    if (error) throw error;
    await leases.reportViewers(new Map(sessions.map((session) => [session.stream.id, viewers(session.stream.playbackId)])));
    await nodes.beat(this.deps.self, { liveSessions: sessions.length, load: os.loadavg()[0]! / os.availableParallelism(), first: this.beats++ === 0 });
    const listed = await nodes.list();
    this.othersUp = listed.some((node) => node.id !== this.deps.self.id && node.status === 'up');
    // A node holds leases only while it heartbeats (a lease lapses before its node is gone): alone,
    // this one need not look for streams live elsewhere.
    const everywhere = this.othersUp ? await leases.live() : [];
    elsewhere.update(everywhere);
    if (!this.deps.hops && !this.warnedNoHop && everywhere.some((lease) => lease.node !== this.deps.self.id)) {
      this.warnedNoHop = true;
      logger.warn('other nodes share this database and have streams live, but CLUSTER_SECRET is not set: their viewers cannot be served here');
    }
    const drainAt = listed.find((node) => node.id === this.deps.self.id)?.drainDeadlineAt;
    if (drainAt !== undefined && drainAt !== null) this.deps.onDrainRequested(drainAt);
    if (this.beats % HOUSEKEEPING_BEATS !== 1) return;
    await nodes.forgetGone();
    const closed = await this.deps.closeOrphans(this.deps.now() - this.deps.orphanAfterMs);
    if (closed > 0) logger.warn({ sessions: closed }, 'closed sessions left open by a node that is gone, which no publisher came back to continue');
  }
}
