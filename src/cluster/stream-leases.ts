import type { Database } from '../db/knex';

interface LeaseRow {
  stream_id: string;
  node: string;
  holder: string;
  expires_at: number | string;
  viewers: number;
}

/** A stream live on some node of the cluster. */
export interface LiveLease {
  streamId: string;
  playbackId: string;
  node: string;
  /** The session the owner runs, once it has named it. */
  sessionId: string | undefined;
  /** Where the node's HTTP is reached; absent when it has not said. */
  url: string | undefined;
  viewers: number;
}

/** Refused: the node holding the lease, its process (`holder`) and, if it said, its URL. */
export type ClaimResult = { ok: true } | { ok: false; owner: string; holder: string; ownerUrl: string | undefined };

export interface StreamLeasesOptions {
  /** This node's id, shown to operators as a stream's owner. */
  node: string;
  /** This process: a node that restarts is a new holder, so nothing it held before counts as its own. */
  holder: string;
  /** How long a lease lasts without renewal: how soon another node may take over a dead node's stream. */
  leaseMs: number;
  now: () => number;
}

/**
 * Which node ingests each live stream, kept in the shared database so that one stream never has two
 * owners. A publish claims the stream's lease (one statement, so two nodes racing for it cannot both
 * win); the owner renews its leases while the sessions run; a lease not renewed lapses, and the next
 * publish anywhere takes the stream over. Every operation on one stream runs in order, so a release
 * cannot overtake the claim of the publish that follows it.
 */
export class StreamLeases {
  /** Streams this process holds, and until when it knows the lease to be its own. */
  private readonly held = new Map<string, number>();
  /** When each held stream was last claimed: a claim whose publish is still being admitted is kept. */
  private readonly claimedAt = new Map<string, number>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** The viewer counts last written, by stream. */
  private readonly reported = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly options: StreamLeasesOptions,
  ) {}

  claim(streamId: string): Promise<ClaimResult> {
    return this.inOrder(streamId, async () => {
      const { node, holder, leaseMs, now } = this.options;
      const at = now();
      const taken = await this.db('stream_leases')
        .where({ stream_id: streamId })
        .andWhere((q) => q.where({ holder }).orWhere('expires_at', '<', at))
        .update({ node, holder, expires_at: at + leaseMs });
      if (taken === 0)
        await this.db('stream_leases')
          .insert({ stream_id: streamId, node, holder, expires_at: at + leaseMs })
          .onConflict('stream_id')
          .ignore();
      const row = await this.db<LeaseRow>('stream_leases').where({ stream_id: streamId }).first();
      if (row && row.holder !== holder) {
        const node = (await this.db('nodes').where('id', row.node).first('url')) as { url: string } | undefined;
        return { ok: false, owner: row.node, holder: row.holder, ownerUrl: node?.url };
      }
      this.held.set(streamId, at + leaseMs);
      this.claimedAt.set(streamId, at);
      return { ok: true };
    });
  }

  /**
   * Takes a lease that has not lapsed from a holder known to be gone (its node's port refuses
   * connections): only if that holder still has it, so two nodes cannot both take it.
   */
  takeOver(streamId: string, from: string): Promise<boolean> {
    return this.inOrder(streamId, async () => {
      const { node, holder, leaseMs, now } = this.options;
      const at = now();
      const taken = await this.db('stream_leases')
        .where({ stream_id: streamId, holder: from })
        .update({ node, holder, session_id: null, expires_at: at + leaseMs });
      if (taken === 0) return false;
      this.held.set(streamId, at + leaseMs);
      this.claimedAt.set(streamId, at);
      return true;
    });
  }

  /** Names the session this node runs under the lease: other nodes send requests for it here. */
  attach(streamId: string, sessionId: string): Promise<void> {
    return this.inOrder(streamId, async () => {
      await this.db('stream_leases').where({ stream_id: streamId, holder: this.options.holder }).update({ session_id: sessionId });
    });
  }

  /**
   * Gives the stream up unless `stillNeeded()` says otherwise when the release's turn comes (a new
   * session of the same stream may have claimed it meanwhile), or a publish claimed it moments ago.
   */
  release(streamId: string, stillNeeded: () => boolean): Promise<void> {
    return this.inOrder(streamId, async () => {
      if (!this.held.has(streamId) || stillNeeded() || this.admitting(streamId)) return;
      this.held.delete(streamId);
      this.claimedAt.delete(streamId);
      await this.db('stream_leases').where({ stream_id: streamId, holder: this.options.holder }).delete();
    });
  }

  /**
   * Extends the leases of the streams still `needed`, and releases the others. Returns the streams
   * taken by another node (`lost`: their sessions must end), and, when the database cannot be
   * reached, those whose leases are about to lapse (`lapsing`: another node may take them soon).
   */
  async renew(needed: readonly string[]): Promise<{ lost: string[]; lapsing: string[]; error?: unknown }> {
    const { holder, leaseMs, now } = this.options;
    const wanted = new Set(needed);
    for (const streamId of [...this.held.keys()]) if (!wanted.has(streamId)) void this.release(streamId, () => false).catch(() => undefined);
    const mine = needed.filter((streamId) => this.held.has(streamId));
    if (mine.length === 0) return { lost: needed.filter((streamId) => !this.held.has(streamId)), lapsing: [] };
    const at = now();
    try {
      const renewed = await this.db('stream_leases')
        .whereIn('stream_id', mine)
        .andWhere({ holder })
        .update({ expires_at: at + leaseMs });
      // Every lease renewed (the usual beat) needs no second look; fewer, and which were taken is read.
      const still =
        renewed === mine.length
          ? new Set(mine)
          : new Set((await this.db<LeaseRow>('stream_leases').whereIn('stream_id', mine).andWhere({ holder }).select('stream_id')).map((row) => row.stream_id));
      const lost = needed.filter((streamId) => !still.has(streamId));
      for (const streamId of still) this.held.set(streamId, at + leaseMs);
      for (const streamId of lost) this.forget(streamId);
      return { lost, lapsing: [] };
    } catch (error) {
      // A quarter of a lease before it lapses: a session ended then leaves no moment with two owners.
      return { lost: [], lapsing: mine.filter((streamId) => (this.held.get(streamId) ?? 0) - leaseMs / 4 <= at), error };
    }
  }

  /** Every lease released: for a node stopping after its sessions ended, so that others may take its streams at once. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held.keys()].map((streamId) => this.release(streamId, () => false)));
  }

  /** Leases left by an earlier run of this node (it crashed): that process holds nothing any more. */
  async dropPrevious(): Promise<number> {
    return this.db('stream_leases').where({ node: this.options.node }).whereNot({ holder: this.options.holder }).delete();
  }

  /** The owner's viewer counts, written where they changed since the last time. */
  async reportViewers(counts: ReadonlyMap<string, number>): Promise<void> {
    for (const [streamId, viewers] of counts) {
      if (!this.held.has(streamId) || this.reported.get(streamId) === viewers) continue;
      await this.db('stream_leases').where({ stream_id: streamId, holder: this.options.holder }).update({ viewers });
      this.reported.set(streamId, viewers);
    }
    for (const streamId of this.reported.keys()) if (!this.held.has(streamId)) this.reported.delete(streamId);
  }

  /** Every stream whose lease is alive, on any node. */
  async live(): Promise<LiveLease[]> {
    const rows = await this.db('stream_leases as l')
      .join('streams as s', 's.id', 'l.stream_id')
      .leftJoin('nodes as n', 'n.id', 'l.node')
      .where('l.expires_at', '>=', this.options.now())
      .select<Array<{ stream_id: string; playback_id: string; node: string; session_id: string | null; url: string | null; viewers: number }>>(
        'l.stream_id',
        's.playback_id',
        'l.node',
        'l.session_id',
        'n.url',
        'l.viewers',
      );
    return rows.map((row) => ({
      streamId: row.stream_id,
      playbackId: row.playback_id,
      node: row.node,
      sessionId: row.session_id ?? undefined,
      url: row.url ?? undefined,
      viewers: Number(row.viewers),
    }));
  }

  private admitting(streamId: string): boolean {
    return this.options.now() - (this.claimedAt.get(streamId) ?? -Infinity) < ADMIT_GRACE_MS;
  }

  private forget(streamId: string): void {
    this.held.delete(streamId);
    this.claimedAt.delete(streamId);
  }

  private inOrder<T>(streamId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(streamId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(streamId, settled);
    void settled.then(() => {
      if (this.queues.get(streamId) === settled) this.queues.delete(streamId);
    });
    return next;
  }
}

/** Longer than a publish takes from its key check to its admission, short beside a lease. */
const ADMIT_GRACE_MS = 2000;
