import { EventLoopStalls } from '../../src/observability/event-loop-stalls';
import { Ticker } from '../../src/ticker';

describe('Ticker', () => {
  afterEach(() => jest.useRealTimers());

  test('runs every job at each tick on one timer, only while some job is on it', () => {
    jest.useFakeTimers();
    const ticker = new Ticker(50);
    const runs: string[] = [];
    const offA = ticker.every(() => runs.push('a'));
    const offB = ticker.every(() => runs.push('b'));
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(49);
    expect(runs).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(runs).toEqual(['a', 'b']);
    offA();
    jest.advanceTimersByTime(50);
    expect(runs).toEqual(['a', 'b', 'b']);
    offB();
    expect(jest.getTimerCount()).toBe(0);
    ticker.every(() => runs.push('c'));
    jest.advanceTimersByTime(50);
    expect(runs).toEqual(['a', 'b', 'b', 'c']);
  });

  test('a job that takes itself off during a tick stops the timer after it', () => {
    jest.useFakeTimers();
    const ticker = new Ticker(50);
    let runs = 0;
    const off = ticker.every(() => {
      runs += 1;
      off();
    });
    jest.advanceTimersByTime(200);
    expect(runs).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('the same function given twice is two jobs, taken off one at a time', () => {
    jest.useFakeTimers();
    const ticker = new Ticker(50);
    let runs = 0;
    const job = () => (runs += 1);
    const off = ticker.every(job);
    ticker.every(job);
    jest.advanceTimersByTime(50);
    expect(runs).toBe(2);
    off();
    jest.advanceTimersByTime(50);
    expect(runs).toBe(3);
  });

  test('tells the jobs how late a tick ran, and the stall sampler records it', async () => {
    const ticker = new Ticker(20);
    const stalls = new EventLoopStalls(ticker);
    const late: number[] = [];
    const off = ticker.every((lateMs) => late.push(lateMs));
    // The loop is held for 150 ms from now: the tick due 20 ms from now runs at least 130 ms late.
    const until = performance.now() + 150;
    while (performance.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 60));
    off();
    const figures = stalls.read();
    stalls.stop();
    expect(late[0]).toBeGreaterThanOrEqual(125);
    expect(figures.max).toBeGreaterThanOrEqual(0.125);
    expect(stalls.intervalMs).toBe(20);
  });
});
