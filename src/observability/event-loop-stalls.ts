import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { Ticker } from '../ticker';

export interface StallFigures {
  /** Seconds. All 0 when no sample was taken in the window. */
  min: number;
  max: number;
  mean: number;
  stddev: number;
  p50: number;
  p90: number;
  p99: number;
}

/**
 * How late the event loop runs a timer, sampled at every tick of `ticker`: the part of a stall
 * still to come when a sample was due. A stall longer than the interval always holds one up, so
 * it is seen within `intervalMs` of its length; an idle loop runs each sample on time (about 0).
 *
 * Node's monitorEventLoopDelay records the whole time between its samples, its own interval
 * included, and loses the one under way when it is reset; here only the lateness is recorded, and
 * a new window starts at every read.
 */
export class EventLoopStalls {
  readonly intervalMs: number;
  private histogram: RecordableHistogram = createHistogram();
  private readonly off: () => void;

  constructor(ticker: Ticker) {
    this.intervalMs = ticker.intervalMs;
    // Histograms record from 1 ns.
    this.off = ticker.every((lateMs) => this.histogram.record(Math.max(1, Math.round(lateMs * 1e6))));
  }

  /** The figures since the last read; the next window starts now. */
  read(): StallFigures {
    const histogram = this.histogram;
    this.histogram = createHistogram();
    if (histogram.count === 0) return { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 };
    const seconds = (ns: number) => ns / 1e9;
    return {
      min: seconds(histogram.min),
      max: seconds(histogram.max),
      mean: seconds(histogram.mean),
      stddev: seconds(histogram.stddev),
      p50: seconds(histogram.percentile(50)),
      p90: seconds(histogram.percentile(90)),
      p99: seconds(histogram.percentile(99)),
    };
  }

  stop(): void {
    this.off();
  }
}
