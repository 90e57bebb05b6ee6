import { Writable } from 'node:stream';
import { SessionWatchdog, type WatchdogSettings, type WatchedRun } from '../../src/live/session-watchdog';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';

const SETTINGS: WatchdogSettings = { segmentSeconds: 2, stallSegments: 3, startupGraceMs: 10_000, backlogWarnBytes: 100, backlogMaxBytes: 1000 };

function setup() {
  const state = { bytesIn: 0, run: undefined as WatchedRun | undefined, lastDataAt: undefined as number | undefined };
  const actions: string[] = [];
  const watchdog = new SessionWatchdog(
    SETTINGS,
    { bytesIn: () => state.bytesIn, run: () => state.run, publisherLastDataAt: () => state.lastDataAt, keyframeIntervalMs: () => undefined },
    { overloaded: (bytes) => actions.push(`overloaded ${bytes}`), stalled: (ms) => actions.push(`stalled ${ms}`), slow: (speed) => actions.push(`slow ${speed}`) },
    {
      metrics: createMetrics({ viewerCounts: () => new Map(), liveStreams: () => [] }),
      log: createLogger({ level: 'silent', format: 'json', destination: new Writable({ write: (_c, _e, d) => d() }) }),
      now: () => Date.now(),
      guard: (work) => work(),
    },
  );
  return { state, actions, watchdog };
}

describe('SessionWatchdog', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  test('the ingest bitrate over the last seconds', () => {
    const { state, watchdog } = setup();
    watchdog.start();
    for (let second = 1; second <= 6; second++) {
      state.bytesIn += 250_000;
      jest.advanceTimersByTime(1000);
    }
    expect(watchdog.bitrateKbps).toBe(2000);
    watchdog.stop();
    expect(jest.getTimerCount()).toBe(0);
  });

  test('a run with no output for three segment durations while its publisher sends is stalled; the first output gets a startup grace; a silent publisher excuses it', () => {
    const { state, actions, watchdog } = setup();
    state.run = { startedAt: 0, lastOutputAt: undefined, backlogBytes: 0, speed: undefined };
    watchdog.start();
    const publisherSends = setInterval(() => (state.lastDataAt = Date.now()), 100);
    jest.advanceTimersByTime(16_000);
    expect(actions).toEqual([]);
    jest.advanceTimersByTime(1000);
    expect(actions).toEqual(['stalled 17000']);
    state.run = { startedAt: 17_000, lastOutputAt: 17_500, backlogBytes: 0, speed: undefined };
    actions.length = 0;
    clearInterval(publisherSends);
    jest.advanceTimersByTime(10_000);
    expect(actions).toEqual([]);
    watchdog.stop();
  });

  test('an input backlog past the maximum ends the session', () => {
    const { state, actions, watchdog } = setup();
    state.lastDataAt = 0;
    state.run = { startedAt: 0, lastOutputAt: 0, backlogBytes: 1001, speed: undefined };
    watchdog.tick();
    expect(actions).toEqual(['overloaded 1001']);
  });

  test('a transcoder below 0.9x real time for 20 s while its publisher sends is slow; a dip or a silent publisher is not', () => {
    const { state, actions, watchdog } = setup();
    state.run = { startedAt: 0, lastOutputAt: 0, backlogBytes: 0, speed: 0.8 };
    watchdog.start();
    const publisherSends = setInterval(() => {
      state.lastDataAt = Date.now();
      state.run!.lastOutputAt = Date.now();
    }, 100);
    // a dip of 15 s, then back to real time
    jest.advanceTimersByTime(15_000);
    state.run.speed = 1;
    jest.advanceTimersByTime(5000);
    expect(actions).toEqual([]);
    state.run.speed = 0.8;
    jest.advanceTimersByTime(19_000);
    expect(actions).toEqual([]);
    jest.advanceTimersByTime(2000);
    expect(actions).toEqual(['slow 0.8']);
    // a publisher that stops sending is not the transcoder's fault
    clearInterval(publisherSends);
    jest.advanceTimersByTime(60_000);
    expect(actions).toEqual(['slow 0.8']);
    watchdog.stop();
  });
});
