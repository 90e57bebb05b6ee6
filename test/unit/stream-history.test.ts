import type { LiveSession } from '../../src/live/live-session';
import { StreamHistory } from '../../src/observability/stream-history';

const session = (id: string, kbps: number | undefined, speed: number | undefined) =>
  ({ stream: { id, playbackId: `pb-${id}` }, info: () => ({ ingest: { bitrateKbps: kbps }, transcoder: speed === undefined ? undefined : { speed } }) }) as unknown as LiveSession;

test('a sample per live stream each time; an hour kept; streams that ended drop out once their hour has passed', () => {
  let now = 0;
  let live = [session('a', 2500, 1.01), session('b', undefined, undefined)];
  const history = new StreamHistory({ intervalMs: 10_000, keepMs: 60_000, sessions: () => live, viewers: (playbackId) => (playbackId === 'pb-a' ? 3 : 0), now: () => now });
  history.sample();
  now = 10_000;
  live = [session('a', 2600, 0.98)];
  history.sample();
  expect(history.of('a')).toEqual([
    { at: 0, ingestKbps: 2500, viewers: 3, transcoderSpeed: 1.01 },
    { at: 10_000, ingestKbps: 2600, viewers: 3, transcoderSpeed: 0.98 },
  ]);
  expect(history.of('b')).toEqual([{ at: 0, ingestKbps: null, viewers: 0, transcoderSpeed: null }]);
  now = 65_000;
  history.sample();
  expect(history.of('a').map((s) => s.at)).toEqual([10_000, 65_000]);
  expect(history.of('b')).toEqual([]);
});
