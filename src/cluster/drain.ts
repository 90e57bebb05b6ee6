import type { LiveRegistry } from '../live/live-registry';
import type { Logger } from '../observability/logger';

/** How often a draining node looks for sessions to hand over. */
const CHECK_MS = 250;

/**
 * Takes this node out of service: no publish is let in any more, a session whose publisher is away
 * is handed over at once (its publisher will come back to another node), and the rest at the
 * deadline. Resolves once no session is left here.
 */
export class NodeDrain {
  private deadlineAt: number | undefined;
  private done: Promise<void> | undefined;

  constructor(private readonly deps: { live: LiveRegistry; logger: Logger; now: () => number }) {}

  get draining(): boolean {
    return this.deadlineAt !== undefined;
  }

  /** Idempotent; an earlier deadline than the one already set wins. */
  begin(deadlineAt: number): Promise<void> {
    this.deadlineAt = Math.min(deadlineAt, this.deadlineAt ?? Infinity);
    if (this.done) return this.done;
    const { live, logger } = this.deps;
    live.refusePublishes();
    logger.info({ sessions: live.list().length, deadline: new Date(this.deadlineAt).toISOString() }, 'draining: refusing publishes, handing live streams over');
    this.done = new Promise((resolve) => {
      const check = () => {
        const sessions = live.list();
        if (sessions.length === 0) {
          logger.info('drained: no session left');
          return resolve();
        }
        const late = this.deps.now() >= this.deadlineAt!;
        for (const session of sessions) if (late || session.state === 'reconnecting') void session.stop('node_draining');
        setTimeout(check, CHECK_MS).unref();
      };
      check();
    });
    return this.done;
  }
}
