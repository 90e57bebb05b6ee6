import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Posters, type PosterSource, type PostersOptions } from '../../src/packaging/posters';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import { probeStreams } from '../support/ffprobe';

/**
 * A 2-second 720p CMAF segment and its init segment (`<base>.init.mp4`, `<base>.m4s`), as the
 * packager writes them: a keyframe first, B-frames after.
 */
function segment(base: string, pattern: string): void {
  const whole = `${base}.mp4`;
  // prettier-ignore
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `${pattern}=size=1280x720:rate=30`, '-t', '2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '60', '-pix_fmt', 'yuv420p',
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_keyframe', whole,
  ]);
  const bytes = fs.readFileSync(whole);
  let at = 0;
  while (bytes.toString('latin1', at + 4, at + 8) !== 'moof') at += bytes.readUInt32BE(at);
  fs.writeFileSync(`${base}.init.mp4`, bytes.subarray(0, at));
  fs.writeFileSync(`${base}.m4s`, bytes.subarray(at));
}

const sourceOf = (dir: string, name: string, width = 640, height = 360): PosterSource => ({
  init: path.join(dir, `${name}.init.mp4`),
  segment: path.join(dir, `${name}.m4s`),
  width,
  height,
});

describe('posters made when asked for (real ffmpeg)', () => {
  let dir: string;
  let clock: number;
  let source: PosterSource | undefined;
  let logged: string[];
  let posters: Posters;
  let metrics: ReturnType<typeof createMetrics>;
  const poster = () => path.join(dir, 'PB', 'poster.jpg');
  const renders = async (result: string) => (await metrics.posterRenders.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posters-'));
    segment(path.join(dir, 'a'), 'testsrc2');
    segment(path.join(dir, 'b'), 'smptebars');
    fs.copyFileSync(path.join(dir, 'a.init.mp4'), path.join(dir, 'broken.init.mp4'));
    fs.writeFileSync(path.join(dir, 'broken.m4s'), Buffer.alloc(5000, 7));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const make = (overrides: Partial<PostersOptions> = {}) => {
    const destination = new Writable({ write: (chunk: Buffer, _encoding, done) => (logged.push(chunk.toString()), done()) });
    return new Posters({
      ffmpegPath: 'ffmpeg',
      intervalMs: 10_000,
      maxRenders: 2,
      timeoutMs: 10_000,
      posterPath: (playbackId) => path.join(dir, playbackId, 'poster.jpg'),
      sourceOf: (playbackId) => (playbackId === 'PB' ? source : undefined),
      now: () => clock,
      logger: createLogger({ level: 'warn', format: 'json', destination }),
      metrics,
      ...overrides,
    });
  };

  beforeEach(() => {
    fs.rmSync(path.join(dir, 'PB'), { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'PB'));
    clock = 0;
    source = sourceOf(dir, 'a');
    logged = [];
    metrics = createMetrics({ viewerCounts: () => new Map(), liveStreams: () => [] });
    posters = make();
  });
  afterEach(() => posters.close());

  test('the first request makes a JPEG of the poster size from the segment; requests meanwhile share the render', async () => {
    expect(posters.canMake('PB')).toBe(true);
    expect(posters.canMake('OTHER')).toBe(false);
    await Promise.all([posters.refresh('PB'), posters.refresh('PB'), posters.refresh('PB')]);
    const [picture] = await probeStreams(poster());
    expect(picture).toMatchObject({ codec_name: 'mjpeg', width: 640, height: 360 });
    expect(await renders('ok')).toBe(1);
    // No stream live: nothing to make, nothing made.
    await posters.refresh('OTHER');
    expect(fs.existsSync(path.join(dir, 'OTHER'))).toBe(false);
    expect(await renders('ok')).toBe(1);
  });

  test('made again only once the interval has passed and there is a newer segment', async () => {
    await posters.refresh('PB');
    const first = fs.readFileSync(poster());
    clock = 9_999;
    source = sourceOf(dir, 'b');
    await posters.refresh('PB');
    expect(fs.readFileSync(poster()).equals(first)).toBe(true);
    clock = 10_000;
    await posters.refresh('PB');
    expect(fs.readFileSync(poster()).equals(first)).toBe(false);
    expect(await renders('ok')).toBe(2);
    // The publisher gone, the newest segment stays the same: the same picture is not made again.
    clock = 30_000;
    await posters.refresh('PB');
    expect(await renders('ok')).toBe(2);
  });

  test('renders beyond the limit wait their turn', async () => {
    const ids = ['P1', 'P2', 'P3'];
    for (const id of ids) fs.mkdirSync(path.join(dir, id), { recursive: true });
    // ffmpeg behind a script that notes when each render starts and ends.
    const events = path.join(dir, 'events');
    fs.writeFileSync(events, '');
    const wrapper = path.join(dir, 'ffmpeg-noted');
    fs.writeFileSync(wrapper, `#!/bin/sh\necho start >> ${events}\nffmpeg "$@"\ncode=$?\necho end >> ${events}\nexit $code\n`, { mode: 0o755 });
    await posters.close();
    posters = make({ ffmpegPath: wrapper, maxRenders: 1, sourceOf: (id) => (ids.includes(id) ? sourceOf(dir, 'a', 320, 180) : undefined) });
    await Promise.all(ids.map((id) => posters.refresh(id)));
    for (const id of ids) expect((await probeStreams(path.join(dir, id, 'poster.jpg')))[0]).toMatchObject({ width: 320, height: 180 });
    expect(fs.readFileSync(events, 'utf8').trim().split('\n')).toEqual(['start', 'end', 'start', 'end', 'start', 'end']);
  });

  test('a segment ffmpeg cannot read: logged, the poster left as it was, nothing thrown', async () => {
    await posters.refresh('PB');
    const before = fs.readFileSync(poster());
    clock = 10_000;
    source = sourceOf(dir, 'broken');
    await posters.refresh('PB');
    expect(fs.readFileSync(poster()).equals(before)).toBe(true);
    expect(await renders('failed')).toBe(1);
    expect(logged.join('')).toContain('cannot make the poster');
  });

  test('the last picture of an ended session is kept; after close() nothing more is made', async () => {
    const kept = posters.keepLast('PB', sourceOf(dir, 'b'));
    await posters.refresh('PB'); // waits for the same render
    expect(fs.existsSync(poster())).toBe(true);
    await kept;
    expect(await renders('ok')).toBe(1);
    fs.rmSync(poster());
    await posters.close();
    clock = 60_000;
    source = sourceOf(dir, 'a');
    await posters.refresh('PB');
    expect(fs.existsSync(poster())).toBe(false);
  });
});
