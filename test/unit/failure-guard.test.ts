import { FailureGuard } from '../../src/security/failure-guard';

describe('failure guard', () => {
  let now = 0;
  const guard = () =>
    new FailureGuard({ windowMs: 60_000, slowAfter: 3, delayPerFailureMs: 500, maxDelayMs: 2000, blockAfter: 8, blockMs: 300_000, maxAddresses: 3, now: () => now });

  beforeEach(() => {
    now = 1_000_000;
  });

  test('a few failures are free, then answers slow down, then the address is blocked for a while', () => {
    const g = guard();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      g.recordFailure('a');
      const verdict = g.verdict('a');
      delays.push(verdict.blocked ? -1 : verdict.delayMs);
    }
    expect(delays).toEqual([0, 0, 0, 500, 1000, 1500, 2000]);
    expect(g.recordFailure('a')).toBe(true);
    expect(g.verdict('a')).toEqual({ blocked: true, retryAfterMs: 300_000 });
    now += 299_999;
    expect(g.verdict('a').blocked).toBe(true);
    now += 1;
    expect(g.verdict('a')).toEqual({ blocked: false, delayMs: 0 });
  });

  test('other addresses are not affected', () => {
    const g = guard();
    for (let i = 0; i < 8; i++) g.recordFailure('attacker');
    expect(g.verdict('attacker').blocked).toBe(true);
    expect(g.verdict('streamer')).toEqual({ blocked: false, delayMs: 0 });
  });

  test('failures older than the window are forgotten', () => {
    const g = guard();
    for (let i = 0; i < 5; i++) g.recordFailure('a');
    expect(g.verdict('a')).toEqual({ blocked: false, delayMs: 1000 });
    now += 60_001;
    expect(g.verdict('a')).toEqual({ blocked: false, delayMs: 0 });
  });

  test('memory is bounded: the least recently failing address is forgotten', () => {
    const g = guard();
    for (const address of ['a', 'b', 'c', 'd']) for (let i = 0; i < 5; i++) g.recordFailure(address);
    expect(g.verdict('a')).toEqual({ blocked: false, delayMs: 0 });
    expect(g.verdict('d')).toEqual({ blocked: false, delayMs: 1000 });
  });
});
