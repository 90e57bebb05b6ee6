import { withoutNodeLabel } from '../support/metrics';
import { useTestOrigin } from '../support/origin';
import { sleep } from '../support/wait';

jest.setTimeout(30_000);

/** The event-loop figures of one scrape, in seconds; each scrape starts a new window. */
async function lagFigures(scrape: () => Promise<string>): Promise<Record<'max' | 'mean' | 'p50', number>> {
  const text = withoutNodeLabel(await scrape());
  const figure = (name: string) => {
    const match = new RegExp(`^origin_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`no origin_nodejs_eventloop_lag_${name}_seconds in the metrics`);
    return Number(match[1]);
  };
  return { max: figure('max'), mean: figure('mean'), p50: figure('p50') };
}

/** The test runs in the origin's process: blocking this thread is blocking the origin's event loop. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('event-loop lag metrics', () => {
  const env = useTestOrigin();
  const scrape = async () => (await env.origin.api('GET', '/metrics', { token: null })).text;

  test('an idle origin reports lag near zero, not its sampling interval', async () => {
    await lagFigures(scrape);
    await sleep(2500);
    const idle = await lagFigures(scrape);
    expect(idle.p50).toBeLessThan(0.01);
    expect(idle.mean).toBeLessThan(0.02);
    expect(idle.max).toBeLessThan(0.2);
  });

  test('a 300 ms block of the event loop shows up as about 300 ms', async () => {
    await lagFigures(scrape);
    blockEventLoop(300);
    await sleep(2500);
    const blocked = await lagFigures(scrape);
    expect(blocked.max).toBeGreaterThanOrEqual(0.24);
    expect(blocked.max).toBeLessThan(0.5);
    // One stall, not a slow loop.
    expect(blocked.p50).toBeLessThan(0.01);
  });
});
