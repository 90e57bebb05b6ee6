import type { AdmitResult, GateDecision, PublishAttempt, PublishGate, Publisher, Refusal } from '../ingest/publisher';
import type { StreamLeases } from '../cluster/stream-leases';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { KeyRefusal, StreamService } from '../streams/stream-service';
import type { StreamRecord } from '../streams/stream-repository';
import type { EndReason, LiveSession } from './live-session';
import type { SessionRecord, SessionRepository } from './session-repository';

/** `takeover`: another node's session of the stream, left open, which the new session continues. */
export type SessionFactory = (stream: StreamRecord, onEnded: (session: LiveSession) => void, takeover: SessionRecord | undefined) => LiveSession;

export interface RegistryDeps {
  streams: StreamService;
  /** Who ingests each stream in the cluster (one node, on a single origin). */
  leases: StreamLeases;
  /** Sessions other nodes left open, to continue. */
  history: Pick<SessionRepository, 'openElsewhere'>;
  /** This node's id. */
  node: string;
  /** Whether the node at this URL is certainly gone (src/cluster/peer-probe.ts). */
  ownerGone: (url: string) => Promise<boolean>;
  createSession: SessionFactory;
  /** Free space left on the media folder's disk, in bytes. */
  freeBytes: () => Promise<number>;
  minFreeBytes: number;
  now: () => number;
  logger: Logger;
  metrics: Metrics;
}

const KEY_REFUSALS: Record<KeyRefusal, Refusal> = {
  malformed_key: { ok: false, reason: 'malformed_key', code: 'NetStream.Publish.BadName', message: 'Invalid stream key.' },
  unknown_key: { ok: false, reason: 'unknown_key', code: 'NetStream.Publish.BadName', message: 'Invalid stream key.' },
  stream_disabled: { ok: false, reason: 'stream_disabled', code: 'NetStream.Publish.Denied', message: 'This stream is disabled.' },
};

const LIVE_ELSEWHERE: Refusal = {
  ok: false,
  reason: 'live_elsewhere',
  code: 'NetStream.Publish.BadName',
  message: 'This stream is already live on another server.',
};

const DRAINING: Refusal = {
  ok: false,
  reason: 'draining',
  code: 'NetStream.Publish.Denied',
  message: 'This server is being taken out of service; connect again to reach another.',
};

const DISK_FULL: Refusal = {
  ok: false,
  reason: 'disk_full',
  code: 'NetStream.Publish.Denied',
  message: 'The server is low on disk space and cannot take new streams; try again later.',
};

/** How long a new publish waits for the previous session of the same stream to finish ending. */
const PREVIOUS_SESSION_WAIT_MS = 10_000;

/**
 * The live sessions of this node, by stream; and the gate that lets publishers in. A stream is let
 * in only under its lease, so that no two nodes sharing the database ingest it at once.
 */
export class LiveRegistry implements PublishGate {
  private readonly sessions = new Map<string, LiveSession>();
  /** Draining: no publish is let in any more, not even a returning publisher. */
  private closed = false;

  constructor(private readonly deps: RegistryDeps) {}

  async check(attempt: PublishAttempt): Promise<GateDecision> {
    if (this.closed) return DRAINING;
    const result = await this.deps.streams.checkKey(attempt.streamKey);
    if (!result.ok) return KEY_REFUSALS[result.reason];
    const current = this.sessions.get(result.stream.id);
    // Live sessions keep going when the disk runs low; only new ones are refused.
    if (!current && (await this.deps.freeBytes()) < this.deps.minFreeBytes) return DISK_FULL;
    if (current?.state === 'ending') await Promise.race([current.whenEnded(), delay(PREVIOUS_SESSION_WAIT_MS)]);
    const claim = await this.deps.leases.claim(result.stream.id);
    if (!claim.ok) {
      const { playbackId } = result.stream;
      // A node killed outright holds its leases until they lapse; if its port refuses connections
      // its process is gone, and the publisher, back already, need not wait.
      const gone = claim.ownerUrl !== undefined && (await this.deps.ownerGone(claim.ownerUrl));
      if (!(gone && (await this.deps.leases.takeOver(result.stream.id, claim.holder)))) {
        this.deps.logger.info({ playbackId, owner: claim.owner }, 'publish refused: the stream is live on another node');
        return LIVE_ELSEWHERE;
      }
      this.deps.logger.warn({ playbackId, owner: claim.owner }, 'the node that had the stream is gone (its port refuses connections): taking the stream over');
    }
    // Holding the lease, this node may continue what another node left open.
    const takeover = current ? undefined : await this.deps.history.openElsewhere(result.stream.id, this.deps.node);
    return { ok: true, admit: (publisher) => this.admit(result.stream, publisher, takeover) };
  }

  getByStreamId(streamId: string): LiveSession | undefined {
    return this.sessions.get(streamId);
  }

  /** The session (live, reconnecting or ending) of a playback id. */
  getByPlaybackId(playbackId: string): LiveSession | undefined {
    for (const session of this.sessions.values()) if (session.stream.playbackId === playbackId) return session;
    return undefined;
  }

  list(): LiveSession[] {
    return [...this.sessions.values()];
  }

  /** Ends the stream's session, if it has one (kick, key reset, disable, delete). */
  async stopStream(streamId: string, reason: EndReason): Promise<boolean> {
    const session = this.sessions.get(streamId);
    if (!session) return false;
    await session.stop(reason);
    return true;
  }

  /** For a node being drained: from now on every publish is refused. */
  refusePublishes(): void {
    this.closed = true;
  }

  async stopAll(reason: EndReason): Promise<void> {
    await Promise.all(this.list().map((session) => session.stop(reason)));
  }

  private admit(stream: StreamRecord, publisher: Publisher, takeover: SessionRecord | undefined): AdmitResult {
    const existing = this.sessions.get(stream.id);
    if (existing) {
      if (existing.canResume(this.deps.now())) {
        existing.resume(publisher);
        return { ok: true, sessionId: existing.id };
      }
      if (this.closed) return DRAINING;
      return { ok: false, reason: 'already_live', code: 'NetStream.Publish.BadName', message: 'This stream already has a publisher.' };
    }
    const session = this.deps.createSession(
      stream,
      (ended) => {
        if (this.sessions.get(stream.id) === ended) this.sessions.delete(stream.id);
        this.deps.metrics.liveStreams.set(this.sessions.size);
        this.deps.leases
          .release(stream.id, () => this.sessions.has(stream.id))
          .catch((error: unknown) => {
            // The lease lapses by itself; until then only this node could take the stream.
            this.deps.logger.warn({ err: error, playbackId: stream.playbackId }, 'cannot release a stream lease');
          });
      },
      takeover,
    );
    this.deps.leases.attach(stream.id, session.id).catch((error: unknown) => {
      this.deps.logger.warn({ err: error, playbackId: stream.playbackId }, 'cannot name the session in the stream lease');
    });
    this.sessions.set(stream.id, session);
    this.deps.metrics.liveStreams.set(this.sessions.size);
    session.begin(publisher);
    this.deps.logger.debug({ session: session.id, playbackId: stream.playbackId }, 'session admitted');
    return { ok: true, sessionId: session.id };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
