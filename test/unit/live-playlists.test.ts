import { Catalog, type LiveSessionInfo } from '../../src/packaging/catalog';
import { Timeline, type TimelineEvent } from '../../src/packaging/timeline';
import { HeldRequests } from '../../src/http/held-requests';
import { advancePartLimit, blocking, livePlaylist, parseDirectives, partState, satisfied } from '../../src/http/live-playlists';

const partEvent = (msn: number, index: number): TimelineEvent => ({
  type: 'part',
  msn,
  part: { index, duration: 0.334, independent: index === 0, offset: 0, length: 1 },
  ...(index === 0 && { start: { discontinuity: false, programDateTime: '2026-12-06T12:00:00.000Z', init: 'init_1.mp4' } }),
});

/** Segments 1..complete done (six parts each), then `parts` parts of the next. */
function timeline(complete: number, parts: number): Timeline {
  const t = new Timeline({ listSize: 10, segmentSeconds: 2 });
  for (let msn = 1; msn <= complete; msn++) {
    for (let i = 0; i < 6; i++) t.apply(partEvent(msn, i));
    t.apply({ type: 'segment', msn, duration: 2 });
  }
  for (let i = 0; i < parts; i++) t.apply(partEvent(complete + 1, i));
  return t;
}

describe('delivery directives', () => {
  test.each([
    ['', { skip: false }],
    ['vsid=abc12345', { skip: false }],
    ['_HLS_msn=12', { msn: 12, skip: false }],
    ['_HLS_msn=12&_HLS_part=3', { msn: 12, part: 3, skip: false }],
    ['_HLS_skip=YES', { skip: true }],
    ['_HLS_skip=v2&_HLS_msn=1', { msn: 1, skip: true }],
  ])('%s', (query, directives) => {
    expect(parseDirectives(query)).toEqual({ ok: true, directives });
  });

  test.each(['_HLS_msn=-1', '_HLS_msn=1.5', '_HLS_msn=', '_HLS_msn=abc', '_HLS_part=2', '_HLS_msn=1&_HLS_part=x', '_HLS_skip=NO', '_HLS_msn=99999999999'])(
    'refused: %s',
    (query) => {
      expect(parseDirectives(query)).toMatchObject({ ok: false });
    },
  );
});

describe('blocking playlist reload', () => {
  const t = timeline(5, 2); // segment 6 has parts 0 and 1
  const partTarget = 0.334;

  test('what the playlist already has is answered now; the next part, the next segment and up to two ahead are held', () => {
    expect(blocking(t, { msn: 6, part: 1, skip: false }, partTarget)).toEqual({ kind: 'now' });
    expect(blocking(t, { msn: 5, skip: false }, partTarget)).toEqual({ kind: 'now' });
    expect(blocking(t, { msn: 6, part: 2, skip: false }, partTarget)).toEqual({ kind: 'hold' });
    expect(blocking(t, { msn: 6, skip: false }, partTarget)).toEqual({ kind: 'hold' });
    expect(blocking(t, { msn: 7, skip: false }, partTarget)).toEqual({ kind: 'hold' });
    expect(blocking(t, { msn: 7, part: 0, skip: false }, partTarget)).toEqual({ kind: 'hold' });
  });

  test('more than two segments after the last complete one, or parts past the advance limit: 400', () => {
    expect(blocking(t, { msn: 8, skip: false }, partTarget)).toMatchObject({ kind: 'refuse' });
    expect(advancePartLimit(partTarget)).toBe(8);
    expect(blocking(t, { msn: 6, part: 9, skip: false }, partTarget)).toEqual({ kind: 'hold' });
    expect(blocking(t, { msn: 6, part: 10, skip: false }, partTarget)).toMatchObject({ kind: 'refuse' });
    expect(blocking(t, { msn: 7, part: 8, skip: false }, partTarget)).toMatchObject({ kind: 'refuse' });
  });

  test('an ended playlist is answered at once, whatever is asked', () => {
    const ended = timeline(2, 0);
    ended.apply({ type: 'ended' });
    expect(blocking(ended, { msn: 4, part: 1, skip: false }, partTarget)).toEqual({ kind: 'now' });
  });

  test('satisfied: a later segment, the part itself, or (without a part) the whole segment', () => {
    expect(satisfied(t, 5, undefined)).toBe(true);
    expect(satisfied(t, 6, undefined)).toBe(false);
    expect(satisfied(t, 6, 1)).toBe(true);
    expect(satisfied(t, 5, 9)).toBe(true);
  });

  test('parts: there, coming (held), or never (404)', () => {
    expect(partState(t, 6, 0, partTarget)).toBe('present');
    expect(partState(t, 6, 2, partTarget)).toBe('coming');
    expect(partState(t, 7, 0, partTarget)).toBe('coming');
    expect(partState(t, 5, 6, partTarget)).toBe('absent'); // segment 5 is complete with six parts
    expect(partState(t, 6, 40, partTarget)).toBe('absent');
    expect(partState(t, 9, 0, partTarget)).toBe('absent');
  });
});

const INFO: LiveSessionInfo = { playbackId: 'PB', sessionId: 'S', mode: 'low', partTarget: 0.334, renditions: ['video', 'audio'], timeline: { listSize: 10, segmentSeconds: 2 } };

describe('live playlists from the catalog', () => {
  test('rendered once per version and shared; a change to any rendition makes a new version (rendition reports)', () => {
    const catalog = new Catalog();
    catalog.apply({ type: 'open', session: INFO });
    const timelineOf = (rendition: string, event: TimelineEvent) => catalog.apply({ type: 'timeline', playbackId: 'PB', sessionId: 'S', rendition, event });
    timelineOf('video', partEvent(1, 0));
    const entry = catalog.get('PB')!;
    const first = livePlaylist(entry, 'video', false)!;
    expect(livePlaylist(entry, 'video', false)).toBe(first);
    timelineOf('audio', partEvent(1, 0));
    const second = livePlaylist(entry, 'video', false)!;
    expect(second).not.toBe(first);
    expect(second.body.toString()).toContain('#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8",LAST-MSN=1,LAST-PART=0');
    expect(second.etag).not.toBe(first.etag);
  });

  test('a snapshot rebuilds the same catalog elsewhere (a delivery process that starts late)', () => {
    const catalog = new Catalog();
    const relayed: unknown[] = [];
    catalog.relay((message) => relayed.push(message));
    catalog.apply({ type: 'open', session: INFO });
    for (let i = 0; i < 6; i++) catalog.apply({ type: 'timeline', playbackId: 'PB', sessionId: 'S', rendition: 'video', event: partEvent(1, i) });
    catalog.apply({ type: 'timeline', playbackId: 'PB', sessionId: 'S', rendition: 'video', event: { type: 'segment', msn: 1, duration: 2 } });
    expect(relayed).toHaveLength(8);
    const copy = new Catalog();
    for (const message of catalog.snapshot()) copy.apply(message);
    expect(livePlaylist(copy.get('PB', 'S')!, 'video', false)!.body.toString()).toBe(livePlaylist(catalog.get('PB', 'S')!, 'video', false)!.body.toString());
    catalog.apply({ type: 'close', playbackId: 'PB', sessionId: 'S' });
    expect(catalog.get('PB')).toBeUndefined();
  });
});

describe('held requests', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setup(maxHeld = 10) {
    const catalog = new Catalog();
    catalog.apply({ type: 'open', session: INFO });
    const held = new HeldRequests(catalog, maxHeld);
    const entry = catalog.get('PB')!;
    const add = (rendition: string, msn: number, index: number) => catalog.apply({ type: 'timeline', playbackId: 'PB', sessionId: 'S', rendition, event: partEvent(msn, index) });
    const never = () => undefined;
    return { catalog, held, entry, add, never };
  }

  test('answered at the change that satisfies it, and only by changes of its own rendition', async () => {
    const { held, entry, add, never } = setup();
    let outcome: string | undefined;
    void held.hold(entry, 'video', (e) => satisfied(e.timelines.get('video')!, 1, 1), 3000, never).then((o) => (outcome = o));
    add('video', 1, 0);
    add('audio', 1, 0);
    add('audio', 1, 1);
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    expect(held.size).toBe(1);
    add('video', 1, 1);
    await Promise.resolve();
    expect(outcome).toBe('ready');
    expect(held.size).toBe(0);
  });

  test('timeout, a client that goes away, a session that ends, and a full house', async () => {
    const { catalog, held, entry } = setup(2);
    const outcomes: string[] = [];
    let close: () => void = () => undefined;
    void held
      .hold(
        entry,
        'video',
        () => false,
        3000,
        () => undefined,
      )
      .then((o) => outcomes.push(`a:${o}`));
    void held
      .hold(
        entry,
        'video',
        () => false,
        60_000,
        (listener) => (close = listener),
      )
      .then((o) => outcomes.push(`b:${o}`));
    void held
      .hold(
        entry,
        'audio',
        () => false,
        60_000,
        () => undefined,
      )
      .then((o) => outcomes.push(`c:${o}`));
    await Promise.resolve();
    expect(outcomes).toEqual(['c:full']);
    jest.advanceTimersByTime(3000);
    await Promise.resolve();
    expect(outcomes).toEqual(['c:full', 'a:timeout']);
    void held
      .hold(
        entry,
        'audio',
        () => false,
        60_000,
        () => undefined,
      )
      .then((o) => outcomes.push(`d:${o}`));
    close();
    catalog.apply({ type: 'close', playbackId: 'PB', sessionId: 'S' });
    await Promise.resolve();
    expect(outcomes).toEqual(['c:full', 'a:timeout', 'b:closed', 'd:gone']);
    expect(held.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
