import { ViewerCounter } from '../../src/viewers/viewer-counter';

function counter(options: { windowMs?: number; max?: number } = {}) {
  let now = 1_000_000;
  const viewers = new ViewerCounter({ windowMs: options.windowMs ?? 10_000, maxViewersPerStream: options.max ?? 1000, now: () => now });
  return { viewers, advance: (ms: number) => (now += ms) };
}

describe('viewer counter (sliding window)', () => {
  test('one viewer per id, however many requests it makes', () => {
    const { viewers, advance } = counter();
    for (let i = 0; i < 5; i += 1) {
      viewers.seen('stream-a', 'player-1');
      advance(2000);
    }
    viewers.seen('stream-a', 'player-2');
    expect(viewers.count('stream-a')).toBe(2);
    expect(viewers.count('stream-b')).toBe(0);
  });

  test('a viewer counts for the window after its last request, then drops out', () => {
    const { viewers, advance } = counter({ windowMs: 10_000 });
    viewers.seen('s', 'leaves');
    viewers.seen('s', 'stays');
    advance(6000);
    viewers.seen('s', 'stays');
    advance(3999);
    expect(viewers.count('s')).toBe(2);
    advance(1);
    expect(viewers.count('s')).toBe(1);
    advance(6000);
    expect(viewers.count('s')).toBe(0);
  });

  test('a viewer seen again keeps counting, whatever its place in the order', () => {
    const { viewers, advance } = counter({ windowMs: 10_000 });
    viewers.seen('s', 'first');
    advance(1000);
    viewers.seen('s', 'second');
    advance(8000);
    viewers.seen('s', 'first');
    advance(2000);
    // second was last seen 10 s ago, first 2 s ago
    expect(viewers.count('s')).toBe(1);
  });

  test('counts() lists only streams with viewers, and forgets streams whose viewers left', () => {
    const { viewers, advance } = counter({ windowMs: 5000 });
    viewers.seen('a', '1');
    viewers.seen('a', '2');
    advance(3000);
    viewers.seen('b', '1');
    expect(viewers.counts()).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
    advance(2500);
    expect(viewers.counts()).toEqual(new Map([['b', 1]]));
    advance(5000);
    expect(viewers.counts()).toEqual(new Map());
  });

  test('ids invented by a client cannot grow memory past the cap: the stalest go first', () => {
    const { viewers, advance } = counter({ max: 3 });
    for (const id of ['1', '2', '3', '4', '5']) {
      viewers.seen('s', id);
      advance(10);
    }
    expect(viewers.count('s')).toBe(3);
    viewers.seen('s', '3');
    viewers.seen('s', '6');
    // 4 was the stalest once 3 had been seen again: 5, 3 and 6 remain, and 5 expires first
    expect(viewers.count('s')).toBe(3);
    advance(9995);
    expect(viewers.count('s')).toBe(2);
  });
});
