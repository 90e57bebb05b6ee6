import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { PlaylistSegment } from '../../src/hls/media-playlist';
import { createLogger } from '../../src/observability/logger';
import type { TranscodeJob } from '../../src/transcode/ffmpeg-args';
import type { AudioRendition, LadderPlan, VideoRendition } from '../../src/transcode/ladder';
import { Remuxer, remuxable } from '../../src/transcode/remuxer';
import { countDecodedFrames, probeStreams, videoPackets } from '../support/ffprobe';

const copiedVideo = { mode: 'copy', name: 'source', width: 640, height: 360, codecString: 'avc1.4d401e', audioGroup: 'audio' } as VideoRendition;
const copiedAudio: AudioRendition = { name: 'audio', mode: 'copy', bitrateKbps: 128, channels: 2, codecString: 'mp4a.40.2' };
const plan: LadderPlan = { video: [copiedVideo], audio: [copiedAudio], keyframes: 'source', frameRate: 30 };

/** The FLV file's tags, each as the session writes them: one whole tag per write. */
function flvTags(file: string): Buffer[] {
  const data = fs.readFileSync(file);
  const tags: Buffer[] = [];
  for (let at = 13; at + 11 <= data.length; ) {
    const end = at + 11 + data.readUIntBE(at + 1, 3) + 4;
    tags.push(data.subarray(at, end));
    at = end;
  }
  return tags;
}

describe('the remuxer: FLV tags in, HLS segments out, without ffmpeg', () => {
  let dir: string;
  let tags: Buffer[];
  let logged: string[];
  /** What each rendition handed over, checked to be on disk by then. */
  let handed: Map<string, Array<Omit<PlaylistSegment, 'discontinuity'>>>;
  const newRemuxer = () =>
    new Remuxer({
      logger: createLogger({ level: 'warn', format: 'json', destination: new Writable({ write: (chunk: Buffer, _e, done) => (logged.push(chunk.toString()), done()) }) }),
      onSegment: async (rendition, segment) => {
        expect(fs.statSync(path.join(out, rendition, segment.uri)).size).toBeGreaterThan(0);
        handed.set(rendition, [...(handed.get(rendition) ?? []), segment]);
      },
    });

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remuxer-'));
    // 5 s of 640x360 at 30 fps with B-frames and 2 s keyframes, 48 kHz stereo AAC, as OBS would send.
    execFileSync('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '5', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-bf', '2',
      '-c:a', 'aac', '-ac', '2', '-f', 'flv', path.join(dir, 'in.flv'),
    ]);
    tags = flvTags(path.join(dir, 'in.flv'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  let out: string;
  beforeEach(() => {
    logged = [];
    handed = new Map();
    out = fs.mkdtempSync(path.join(dir, 'run-'));
    for (const rendition of ['source', 'audio']) fs.mkdirSync(path.join(out, rendition));
  });

  const job = (overrides: Partial<TranscodeJob> = {}): TranscodeJob => ({
    plan, outputDir: out, preset: 'unused', segmentSeconds: 2, startNumber: 3, input: { hasVideo: true, hasAudio: true }, ...overrides,
  });
  const segmentsOf = (rendition: string) => handed.get(rendition) ?? [];

  test('segments cut at the keyframes on the grid, numbered from the start number, every frame decodable', async () => {
    const remuxer = newRemuxer();
    // Written before start(), as the session does while an earlier run finishes: held, not lost.
    for (const tag of tags) remuxer.write(tag);
    remuxer.start(job());
    remuxer.endInput();
    expect(await remuxer.exited).toEqual({ code: 0, signal: null, expected: true, stderrTail: [] });

    const video = segmentsOf('source');
    expect(video.map((s) => [s.sequence, s.uri])).toEqual([[3, 'seg_3.ts'], [4, 'seg_4.ts'], [5, 'seg_5.ts']]);
    expect(video.map((s) => Math.round(s.duration * 100) / 100)).toEqual([2, 2, 1]);
    let frames = 0;
    let expectedStart: number | undefined;
    for (const segment of video) {
      const file = path.join(out, 'source', segment.uri);
      const [stream] = await probeStreams(file);
      expect(stream).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
      const packets = await videoPackets(file);
      expect(packets[0]!.keyframe).toBe(true);
      if (expectedStart !== undefined) expect(Math.abs(packets[0]!.pts_time - expectedStart)).toBeLessThan(0.002);
      expectedStart = packets[0]!.pts_time + segment.duration;
      frames += await countDecodedFrames(file);
    }
    expect(frames).toBe(150);

    const audio = segmentsOf('audio');
    expect(audio.map((s) => s.uri)).toEqual(['seg_3.ts', 'seg_4.ts', 'seg_5.ts']);
    const [sound] = await probeStreams(path.join(out, 'audio', 'seg_3.ts'));
    expect(sound).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
    let audioFrames = 0;
    for (const segment of audio) audioFrames += await countDecodedFrames(path.join(out, 'audio', segment.uri), 'a:0');
    expect(audioFrames).toBeGreaterThanOrEqual(Math.floor((5 * 48000) / 1024) - 1);
    expect(logged).toEqual([]);
  });

  test('what is not a usable tag (garbage, truncated tags, script data) is passed over; the media around it is not', async () => {
    const remuxer = newRemuxer();
    remuxer.start(job({ plan: { ...plan, audio: [] }, input: { hasVideo: true, hasAudio: false } }));
    const garbage = [Buffer.alloc(3), Buffer.from('FLV\x01\x05\0\0\0\x09\0\0\0\0'), Buffer.alloc(40, 9), Buffer.alloc(40, 8), Buffer.from([9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x17])];
    tags.forEach((tag, i) => {
      remuxer.write(garbage[i % garbage.length]!);
      remuxer.write(tag.subarray(0, Math.max(1, tag.length >> 1)));
      remuxer.write(tag);
    });
    remuxer.endInput();
    expect((await remuxer.exited).expected).toBe(true);
    expect(segmentsOf('source')).toHaveLength(3);
    expect(await countDecodedFrames(path.join(out, 'source', 'seg_4.ts'))).toBe(60);
    expect(segmentsOf('audio')).toEqual([]);
  });

  test('a segment that cannot be written ends the run as a failure, with the reason, for the session to restart it', async () => {
    // A file where the rendition's folder should be: neither writable nor re-creatable.
    fs.rmSync(path.join(out, 'source'), { recursive: true });
    fs.writeFileSync(path.join(out, 'source'), '');
    const remuxer = newRemuxer();
    remuxer.start(job());
    for (const tag of tags) remuxer.write(tag);
    const exit = await remuxer.exited;
    expect(exit).toMatchObject({ code: 1, expected: false });
    expect(exit.stderrTail.join('\n')).toMatch(/EEXIST|ENOTDIR/);
    expect(logged.some((line) => line.includes('the remuxer failed'))).toBe(true);
  });

  test('stop() before start() ends the run at once with nothing written; stop() after writes keeps what came', async () => {
    const early = newRemuxer();
    for (const tag of tags) early.write(tag);
    expect(await early.stop()).toMatchObject({ code: 0, expected: true });
    early.start(job());
    expect(fs.readdirSync(path.join(out, 'source'))).toEqual([]);

    const late = newRemuxer();
    late.start(job());
    for (const tag of tags.slice(0, tags.length / 2)) late.write(tag);
    expect(await late.stop()).toMatchObject({ code: 0, expected: true });
    const listed = segmentsOf('source');
    expect(listed.length).toBeGreaterThanOrEqual(1);
    expect(listed.reduce((sum, s) => sum + s.duration, 0)).toBeGreaterThan(2);
  });
});

describe('remuxable: only plans that copy H.264 and AAC as they are', () => {
  const h264 = { codec: 'h264' };
  const aac = { codec: 'aac' };
  test.each([
    ['passthrough of H.264 and AAC', plan, { video: h264, audio: aac }, true],
    ['video only', { ...plan, audio: [] }, { video: h264 }, true],
    ['audio only', { ...plan, video: [] }, { audio: aac }, true],
    ['an encoded rung', { ...plan, video: [copiedVideo, { ...copiedVideo, mode: 'encode', name: '360p' } as VideoRendition] }, { video: h264, audio: aac }, false],
    ['encoded audio', { ...plan, audio: [{ ...copiedAudio, mode: 'encode' as const }] }, { video: h264, audio: aac }, false],
    ['MP3 audio', plan, { video: h264, audio: { codec: 'mp3' } }, false],
    ['a publisher back without audio (silence must be made)', plan, { video: h264 }, false],
  ])('%s', (_name, candidate, input, expected) => {
    expect(remuxable(candidate as LadderPlan, input)).toBe(expected);
  });
});
