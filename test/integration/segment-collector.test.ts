import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ffmpegPlaylistName } from '../../src/hls/media-layout';
import { parseMediaPlaylist } from '../../src/hls/media-playlist';
import { SegmentCollector } from '../../src/hls/segment-collector';

/** Writes what ffmpeg would: segment files and its own playlist of the last few. */
class FakeFfmpeg {
  private readonly listed: number[] = [];
  private readonly dir: string;
  constructor(private readonly sessionDir: string, private readonly rendition: string) {
    this.dir = path.join(sessionDir, rendition);
    fs.mkdirSync(this.dir, { recursive: true });
  }
  segment(sequence: number, duration = 2): void {
    fs.writeFileSync(path.join(this.dir, `seg_${sequence}.ts`), Buffer.alloc(1000));
    this.listed.push(sequence);
    const shown = this.listed.slice(-10);
    const lines = ['#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-TARGETDURATION:2', `#EXT-X-MEDIA-SEQUENCE:${shown[0]}`];
    for (const n of shown) lines.push(`#EXTINF:${duration.toFixed(6)},`, `seg_${n}.ts`);
    fs.writeFileSync(path.join(this.sessionDir, ffmpegPlaylistName(this.rendition)), lines.join('\n') + '\n');
  }
  newRun(): void {
    this.listed.length = 0;
  }
}

describe('segment collector', () => {
  let dir: string;
  const make = (record: boolean, overrides: Partial<ConstructorParameters<typeof SegmentCollector>[0]> = {}) => {
    const events: string[] = [];
    const collector = new SegmentCollector({
      sessionDir: dir,
      renditions: ['720p'],
      listSize: 3,
      segmentSeconds: 2,
      record,
      now: () => 0,
      onSegment: (rendition, segment) => events.push(`${rendition}:${segment.sequence}`),
      onError: (error) => {
        throw error;
      },
      ...overrides,
    });
    return { collector, events, ffmpeg: new FakeFfmpeg(dir, '720p') };
  };
  const read = (name: string) => parseMediaPlaylist(fs.readFileSync(path.join(dir, '720p', name), 'utf8'));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-collector-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('publishes a bounded window and deletes what left it long enough ago', async () => {
    const { collector, events, ffmpeg } = make(false);
    for (let n = 0; n < 8; n++) {
      ffmpeg.segment(n);
      await collector.collectAll();
    }
    expect(events).toEqual(['720p:0', '720p:1', '720p:2', '720p:3', '720p:4', '720p:5', '720p:6', '720p:7']);
    const window = read('index.m3u8');
    expect(window.mediaSequence).toBe(5);
    expect(window.segments.map((s) => s.uri)).toEqual(['seg_5.ts', 'seg_6.ts', 'seg_7.ts']);
    expect(window.endList).toBe(false);
    // three more than the window are kept for late readers; older ones are gone
    const files = fs.readdirSync(path.join(dir, '720p')).filter((f) => f.endsWith('.ts')).sort((a, b) => Number(a.slice(4, -3)) - Number(b.slice(4, -3)));
    expect(files).toEqual(['seg_2.ts', 'seg_3.ts', 'seg_4.ts', 'seg_5.ts', 'seg_6.ts', 'seg_7.ts']);
    expect(collector.nextStartNumber()).toBe(8);
    expect(fs.existsSync(path.join(dir, '720p', 'recording.m3u8'))).toBe(false);
  });

  test('a new run continues the numbering behind a discontinuity, counted once it leaves the window', async () => {
    const { collector, ffmpeg } = make(false);
    for (let n = 0; n < 3; n++) ffmpeg.segment(n);
    await collector.collectAll();
    collector.beginRun();
    ffmpeg.newRun();
    const start = collector.nextStartNumber();
    expect(start).toBe(3);
    ffmpeg.segment(3);
    ffmpeg.segment(4);
    await collector.collectAll();
    let window = read('index.m3u8');
    expect(window.segments.map((s) => [s.sequence, s.discontinuity])).toEqual([
      [2, false],
      [3, true],
      [4, false],
    ]);
    expect(window.discontinuitySequence).toBe(0);
    ffmpeg.segment(5);
    ffmpeg.segment(6);
    await collector.collectAll();
    window = read('index.m3u8');
    expect(window.segments.map((s) => s.sequence)).toEqual([4, 5, 6]);
    expect(window.discontinuitySequence).toBe(1);
  });

  test('finish ends the window with ENDLIST', async () => {
    const { collector, ffmpeg } = make(false);
    ffmpeg.segment(0);
    await collector.finish();
    expect(read('index.m3u8').endList).toBe(true);
  });

  test('recording keeps every segment and becomes a VOD playlist', async () => {
    const { collector, ffmpeg } = make(true);
    for (let n = 0; n < 5; n++) {
      ffmpeg.segment(n, n === 4 ? 3.4 : 2);
      await collector.collectAll();
    }
    collector.beginRun();
    ffmpeg.newRun();
    ffmpeg.segment(5);
    await collector.collectAll();
    const during = read('recording.m3u8');
    expect(during.playlistType).toBe('EVENT');
    expect(during.endList).toBe(false);
    await collector.finish();
    const vod = read('recording.m3u8');
    expect(vod.playlistType).toBe('VOD');
    expect(vod.endList).toBe(true);
    expect(vod.targetDuration).toBe(3);
    expect(vod.segments.map((s) => [s.uri, s.discontinuity])).toEqual([
      ['seg_0.ts', false],
      ['seg_1.ts', false],
      ['seg_2.ts', false],
      ['seg_3.ts', false],
      ['seg_4.ts', false],
      ['seg_5.ts', true],
    ]);
    expect(fs.readdirSync(path.join(dir, '720p')).filter((f) => f.endsWith('.ts'))).toHaveLength(6);
  });

  test('program date-times count from when each run\'s first frame was captured', async () => {
    const { collector, ffmpeg } = make(false);
    let firstRun: number | undefined;
    collector.beginRun(() => firstRun);
    ffmpeg.segment(0);
    await collector.collectAll();
    // not known yet: ffmpeg's own date (none here) is kept
    expect(read('index.m3u8').segments[0]!.programDateTime).toBeUndefined();
    firstRun = Date.UTC(2026, 10, 21, 12, 0, 0);
    ffmpeg.segment(1, 2.5);
    await collector.collectAll();
    ffmpeg.segment(2);
    await collector.collectAll();
    // the run's clock counts every segment of the run, including the one collected before it was known
    expect(read('index.m3u8').segments.map((s) => s.programDateTime)).toEqual([undefined, '2026-11-21T12:00:02.000Z', '2026-11-21T12:00:04.500Z']);

    const secondRun = Date.UTC(2026, 10, 21, 12, 1, 0);
    collector.beginRun(() => secondRun);
    ffmpeg.newRun();
    ffmpeg.segment(3);
    ffmpeg.segment(4);
    await collector.collectAll();
    expect(read('index.m3u8').segments.map((s) => s.programDateTime)).toEqual(['2026-11-21T12:00:04.500Z', '2026-11-21T12:01:00.000Z', '2026-11-21T12:01:02.000Z']);
  });

  test('the poll reads a playlist the watcher missed, and leaves alone one read within a segment', async () => {
    let clock = 10_000;
    const { collector, events, ffmpeg } = make(false, { now: () => clock, pollMs: 20 });
    // Written before the watcher exists: only the poll can see it.
    ffmpeg.segment(0);
    const reads = jest.spyOn(fs, 'readFileSync');
    const playlistReads = () => reads.mock.calls.filter(([file]) => String(file).endsWith(ffmpegPlaylistName('720p'))).length;
    try {
      collector.start();
      const deadline = Date.now() + 2000;
      while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(events).toEqual(['720p:0']);
      await new Promise((r) => setTimeout(r, 150));
      expect(playlistReads()).toBe(1);
      clock += 2001;
      await new Promise((r) => setTimeout(r, 150));
      expect(playlistReads()).toBe(2);
    } finally {
      collector.stopWatching();
      reads.mockRestore();
    }
  });
  test('segments handed over (a remuxer run) and read from a run playlist (an ffmpeg run) make one playlist', async () => {
    const { collector, events, ffmpeg } = make(false);
    ffmpeg.segment(0);
    ffmpeg.segment(1);
    await collector.collectAll();
    collector.beginRun();
    for (const sequence of [2, 3]) {
      fs.writeFileSync(path.join(dir, '720p', `seg_${sequence}.ts`), Buffer.alloc(1000));
      await collector.add('720p', { sequence, uri: `seg_${sequence}.ts`, duration: 1.5 });
    }
    // ffmpeg's stale playlist lists nothing new: nothing is listed twice.
    await collector.collectAll();
    await collector.add('720p', { sequence: 3, uri: 'seg_3.ts', duration: 1.5 });
    expect(events).toEqual(['720p:0', '720p:1', '720p:2', '720p:3']);
    expect(read('index.m3u8').segments.map((s) => [s.sequence, s.uri, s.duration, s.discontinuity])).toEqual([
      [1, 'seg_1.ts', 2, false],
      [2, 'seg_2.ts', 1.5, true],
      [3, 'seg_3.ts', 1.5, false],
    ]);
    expect(collector.nextStartNumber()).toBe(4);
  });
});
