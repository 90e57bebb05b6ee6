/**
 * Runs `work` every `intervalMs`, never twice at once; `run()` runs it now (or joins the run in
 * progress), `wake()` runs it now or once more after the run in progress, and `stop()` waits for
 * the run in progress. A failure is reported and the schedule goes on.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }

  run(): Promise<void> {
    this.running ??= this.work()
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.run();
        }
      });
    return this.running;
  }

  /** For news the run in progress may have looked for before it came: that run is followed by another. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
