import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

export interface WatchdogSettings {
  segmentSeconds: number;
  /** Segment durations without output from a run whose publisher is sending: a stall. */
  stallSegments: number;
  /** Allowed on top before a run's first output (ffmpeg starting, probing its input). */
  startupGraceMs: number;
  backlogWarnBytes: number;
  backlogMaxBytes: number;
}

/** What the watchdog looks at, read afresh at every tick. */
export interface WatchedSession {
  bytesIn(): number;
  /** The run being fed by the current publisher, once started. */
  run(): WatchedRun | undefined;
  /** When the current publisher last sent anything; undefined without one. */
  publisherLastDataAt(): number | undefined;
  keyframeIntervalMs(): number | undefined;
}

export interface WatchedRun {
  startedAt: number;
  lastOutputAt: number | undefined;
  backlogBytes: number;
  /** Media seconds ffmpeg makes per second, over the last seconds; undefined without ffmpeg or before it is known. */
  speed: number | undefined;
}

export interface WatchdogActions {
  /** The run's input backlog passed the maximum. */
  overloaded(backlogBytes: number): void;
  /** The run produced nothing for too long while its publisher was sending. */
  stalled(silentMs: number): void;
  /** ffmpeg has made media slower than real time for SLOW_FOR_MS. */
  slow(speed: number): void;
}

const TICK_MS = 1000;
const BITRATE_WINDOW_SAMPLES = 5;
/** A publisher silent for this long is not sending: a lack of output is then not the run's fault. */
const PUBLISHER_SILENT_MS = 2000;
/**
 * Below this speed for this long, a transcoder is falling behind for good: viewers' latency grows
 * by a tenth of the time, and its input backlog with it. Shorter dips (a busy moment of the
 * machine) pass.
 */
const SLOW_SPEED = 0.9;
const SLOW_FOR_MS = 20_000;

/** Once a second: the ingest bitrate, the run's input backlog, and whether the run has stalled or is too slow. */
export class SessionWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private readonly bytesSamples: number[] = [];
  private backlogWarned = false;
  private slowSince: number | undefined;

  constructor(
    private readonly settings: WatchdogSettings,
    private readonly session: WatchedSession,
    private readonly actions: WatchdogActions,
    private readonly deps: { metrics: Metrics; log: Logger; now: () => number; guard: (work: () => void) => void },
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.deps.guard(() => this.tick()), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** kbit/s over the last few seconds. */
  get bitrateKbps(): number | undefined {
    const samples = this.bytesSamples;
    return samples.length > 1 ? ((samples[samples.length - 1]! - samples[0]!) * 8) / ((samples.length - 1) * (TICK_MS / 1000)) / 1000 : undefined;
  }

  tick(): void {
    const { settings, deps } = this;
    this.bytesSamples.push(this.session.bytesIn());
    if (this.bytesSamples.length > BITRATE_WINDOW_SAMPLES + 1) this.bytesSamples.shift();

    const run = this.session.run();
    const lastDataAt = this.session.publisherLastDataAt();
    if (!run || lastDataAt === undefined) return;
    const now = deps.now();

    if (run.backlogBytes > settings.backlogMaxBytes) {
      deps.metrics.transcoderBacklog.inc({ outcome: 'ended' });
      this.actions.overloaded(run.backlogBytes);
      return;
    }
    if (run.backlogBytes > settings.backlogWarnBytes && !this.backlogWarned) {
      this.backlogWarned = true;
      deps.metrics.transcoderBacklog.inc({ outcome: 'warned' });
      deps.log.warn({ backlogBytes: run.backlogBytes }, 'the transcoder is falling behind the input');
    } else if (run.backlogBytes < settings.backlogWarnBytes / 2) {
      this.backlogWarned = false;
    }

    if (now - lastDataAt > PUBLISHER_SILENT_MS) {
      this.slowSince = undefined;
      return;
    }
    if (run.speed !== undefined && run.speed < SLOW_SPEED) {
      this.slowSince ??= now;
      if (now - this.slowSince >= SLOW_FOR_MS) {
        this.slowSince = undefined;
        this.actions.slow(run.speed);
        return;
      }
    } else {
      this.slowSince = undefined;
    }
    const segmentMs = Math.max(settings.segmentSeconds * 1000, this.session.keyframeIntervalMs() ?? 0);
    const limit = settings.stallSegments * segmentMs + (run.lastOutputAt !== undefined ? 0 : settings.startupGraceMs);
    const silentMs = now - Math.max(run.lastOutputAt ?? run.startedAt, run.startedAt);
    if (silentMs > limit) {
      deps.metrics.transcoderStalls.inc();
      this.actions.stalled(silentMs);
    }
  }
}
