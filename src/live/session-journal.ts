import type { Logger } from '../observability/logger';
import type { SessionRecord, SessionRepository } from './session-repository';

/**
 * A session's row in the database, written off the media path: the insert (or, for a session taken
 * over from another node, the row's adoption) and every update are queued in order, and a failure
 * is logged, never thrown at the session. Updates apply only while the row names this node.
 */
export class SessionJournal {
  private written: Promise<void>;

  constructor(
    private readonly store: Pick<SessionRepository, 'insert' | 'update' | 'adopt'>,
    private readonly record: SessionRecord,
    private readonly log: Logger,
    adopted: boolean,
  ) {
    const { id, node, state, reconnects } = record;
    const first = adopted ? store.adopt(id, node, { state, reconnects, endedAt: null, endReason: null }) : store.insert(record);
    this.written = first.catch((error: unknown) => log.error({ err: error }, 'cannot record the session'));
  }

  update(patch: Partial<SessionRecord>): void {
    this.written = this.written
      .then(() => this.store.update(this.record.id, this.record.node, patch))
      .catch((error: unknown) => this.log.error({ err: error }, 'cannot update the session record'));
  }

  /** Resolves once everything queued so far is written (or has failed), or after `ms`. */
  settled(ms: number): Promise<boolean> {
    return settledWithin(this.written, ms);
  }
}

/** Whether `promise` settled (either way) within `ms`. */
export function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    void promise.then(done, done);
  });
}
