import type { Logger } from '../observability/logger';
import type { SessionRecord, SessionRepository } from './session-repository';

/**
 * A session's row in the database, written off the media path: the insert and every update are
 * queued in order, and a failure is logged, never thrown at the session.
 */
export class SessionJournal {
  private written: Promise<void>;

  constructor(
    private readonly store: Pick<SessionRepository, 'insert' | 'update'>,
    private readonly record: SessionRecord,
    private readonly log: Logger,
  ) {
    this.written = store.insert(record).catch((error: unknown) => log.error({ err: error }, 'cannot record the session'));
  }

  update(patch: Partial<SessionRecord>): void {
    this.written = this.written
      .then(() => this.store.update(this.record.id, patch))
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
