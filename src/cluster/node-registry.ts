import type { Database } from '../db/knex';

interface NodeRow {
  id: string;
  url: string;
  version: string;
  started_at: number | string;
  heartbeat_at: number | string;
  left_at: number | string | null;
  live_sessions: number;
  load: number;
  drain_deadline_at: number | string | null;
}

export interface NodeRecord {
  id: string;
  url: string;
  version: string;
  /** `gone`: stopped, or silent for longer than a lease (its streams may be taken over). */
  status: 'up' | 'gone';
  startedAt: number;
  lastSeenAt: number;
  liveSessions: number;
  /** The one-minute load average divided by the node's cores. */
  load: number;
  /** Told to drain: by when its streams are handed over. */
  drainDeadlineAt: number | null;
}

/** A node as it describes itself in its heartbeats. */
export interface NodeIdentity {
  id: string;
  /** Known once the HTTP listener is bound. */
  url: () => string;
  version: string;
  startedAt: number;
}

export interface NodeRegistryOptions {
  /** Silent for longer than this, a node is gone: the same span after which its leases lapse. */
  goneAfterMs: number;
  now: () => number;
}

/** Gone nodes are listed for a day, then forgotten. */
const FORGET_AFTER_MS = 24 * 3600_000;

/** The origins sharing the database: each says it is alive, and anyone can list them. */
export class NodeRegistry {
  constructor(
    private readonly db: Database,
    private readonly options: NodeRegistryOptions,
  ) {}

  /** `first`: the first beat of this run. */
  async beat(self: NodeIdentity, state: { liveSessions: number; load: number; first?: boolean }): Promise<void> {
    const { id, url, version, startedAt } = self;
    const at = this.options.now();
    const row = { id, url: url(), version, started_at: startedAt, heartbeat_at: at, left_at: null, live_sessions: state.liveSessions, load: state.load };
    // A drain asked of this node's previous run does not hold for this one.
    const merged = state.first ? [...Object.keys(row), 'drain_deadline_at'] : Object.keys(row);
    await this.db('nodes')
      .insert({ ...row, drain_deadline_at: null })
      .onConflict('id')
      .merge(merged);
  }

  /** Nodes gone for a day are no longer listed. */
  async forgetGone(): Promise<void> {
    await this.db('nodes')
      .where('heartbeat_at', '<', this.options.now() - FORGET_AFTER_MS)
      .delete();
  }

  /** A node that stops cleanly says so, and is shown as gone at once. */
  async leave(id: string): Promise<void> {
    await this.db('nodes').where({ id }).update({ left_at: this.options.now(), live_sessions: 0 });
  }

  /** Tells a node that is up to drain by `deadlineAt`; undefined when there is no such node. */
  async requestDrain(id: string, deadlineAt: number): Promise<NodeRecord | undefined> {
    const node = (await this.list()).find((candidate) => candidate.id === id && candidate.status === 'up');
    if (!node) return undefined;
    const deadline = Math.min(deadlineAt, node.drainDeadlineAt ?? Infinity);
    await this.db('nodes').where({ id }).update({ drain_deadline_at: deadline });
    return { ...node, drainDeadlineAt: deadline };
  }

  async list(): Promise<NodeRecord[]> {
    const rows = await this.db<NodeRow>('nodes').orderBy('id');
    return rows.map((row) => this.toRecord(row));
  }

  private toRecord(row: NodeRow): NodeRecord {
    const lastSeenAt = Number(row.heartbeat_at);
    const gone = row.left_at !== null || this.options.now() - lastSeenAt > this.options.goneAfterMs;
    return {
      id: row.id,
      url: row.url,
      version: row.version,
      status: gone ? 'gone' : 'up',
      startedAt: Number(row.started_at),
      lastSeenAt,
      liveSessions: gone ? 0 : row.live_sessions,
      load: gone ? 0 : Math.round(row.load * 100) / 100,
      drainDeadlineAt: gone || row.drain_deadline_at === null ? null : Number(row.drain_deadline_at),
    };
  }
}
