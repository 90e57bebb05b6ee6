/**
 * One timer for the periodic jobs that run at the same interval: the read rounds and the
 * event-loop stall sampler. Each with a timer of its own, they fell due at different moments and
 * woke the process more often (docs/decisions.md). Each tick tells the jobs how late it ran.
 * The timer runs only while some job is on it, and never keeps the process alive.
 */
export class Ticker {
  private readonly jobs = new Set<(lateMs: number) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly intervalMs: number) {}

  /** Runs `job` at every tick from the next one on, until the returned function is called. */
  every(job: (lateMs: number) => void): () => void {
    // A function given twice is two jobs.
    const entry = (lateMs: number) => job(lateMs);
    this.jobs.add(entry);
    if (!this.timer) this.schedule();
    return () => {
      this.jobs.delete(entry);
      if (this.jobs.size === 0) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    };
  }

  private schedule(): void {
    const due = performance.now() + this.intervalMs;
    this.timer = setTimeout(() => {
      // Timers fire on the loop's millisecond clock: on time can read a little early.
      const lateMs = Math.max(0, performance.now() - due);
      for (const job of [...this.jobs]) job(lateMs);
      if (this.jobs.size > 0) this.schedule();
      else this.timer = undefined;
    }, this.intervalMs).unref();
  }
}
