import { buildFfmpegArgs, buildPosterArgs, toArgv, type TranscodeJob } from '../../src/transcode/ffmpeg-args';
import { planLadder, type Profile, type SourceInfo } from '../../src/transcode/ladder';

const rungs = [
  { name: '720p', height: 720, videoBitrateKbps: 2800 },
  { name: '480p', height: 480, videoBitrateKbps: 1400 },
  { name: '360p', height: 360, videoBitrateKbps: 800 },
];
const ladder: Profile = { kind: 'ladder', rungs, sourceRung: true };
const h264720: SourceInfo['video'] = { codec: 'h264', width: 1280, height: 720, frameRate: 30, codecString: 'avc1.64001f' };
const aac: SourceInfo['audio'] = { codec: 'aac', codecString: 'mp4a.40.2', channels: 2 };

function job(source: SourceInfo, profile: Profile, extra: Partial<TranscodeJob> = {}): TranscodeJob {
  return {
    plan: planLadder(source, { profile, audioBitrateKbps: 128 }),
    preset: 'veryfast',
    segmentSeconds: 2,
    input: { hasVideo: source.video !== undefined, hasAudio: source.audio !== undefined, format: 'flv' },
    label: '/media/live/PB/sessions/S',
    ...extra,
  };
}
const run = (j: TranscodeJob) => buildFfmpegArgs(j);
const argv = (j: TranscodeJob) => toArgv(run(j)!.args);
const valueOf = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

const INPUT = ['-hide_banner', '-analyzeduration', '100000', '-f', 'flv', '-i', 'pipe:0', '-y', '-copyts'];
const OUTPUT = [
  '-metadata',
  'comment=/media/live/PB/sessions/S',
  '-f',
  'mp4',
  '-movflags',
  'empty_moov+default_base_moof+frag_every_frame+frag_discont',
  '-flush_packets',
  '1',
  '-avoid_negative_ts',
  'disabled',
  '-video_track_timescale',
  '90000',
  'pipe:1',
];

describe('ffmpeg arguments (golden)', () => {
  test("default ladder, 720p30 H.264 + AAC: the source and the audio are the origin's copies; two rungs encoded on the source's keyframes, as fragmented MP4 on stdout", () => {
    const encoding = run(job({ video: h264720, audio: aac }, ladder))!;
    // prettier-ignore
    expect(toArgv(encoding.args)).toEqual([
      ...INPUT,
      '-filter_complex',
      '[0:v:0]split=2[s0][s1];[s0]scale=854:480,format=yuv420p[v0];[s1]scale=640:360,format=yuv420p[v1]',
      '-map', '[v0]', '-c:v:0', 'libx264', '-b:v:0', '1400k', '-maxrate:v:0', '1540k', '-bufsize:v:0', '3080k', '-profile:v:0', 'high', '-level:v:0', '3.1', '-g:v:0', '600',
      '-map', '[v1]', '-c:v:1', 'libx264', '-b:v:1', '800k', '-maxrate:v:1', '880k', '-bufsize:v:1', '1760k', '-profile:v:1', 'main', '-level:v:1', '3.0', '-g:v:1', '600',
      '-preset', 'veryfast', '-tune', 'zerolatency', '-sc_threshold', '0', '-force_key_frames', 'source', '-fps_mode:v', 'passthrough', '-enc_time_base:v', '-1',
      ...OUTPUT,
    ]);
    expect(encoding.renditions).toEqual(['480p', '360p']);
    expect(encoding.readsAudio).toBe(false);
  });

  test('without a source rung, MP3 audio: every rung and the audio encoded; keyframes every segment duration from the first frame', () => {
    const encoding = run(job({ video: { ...h264720, width: 1920, height: 1080 }, audio: { codec: 'mp3' } }, { ...ladder, sourceRung: false }))!;
    const args = toArgv(encoding.args);
    expect(valueOf(args, '-force_key_frames')).toBe('expr:if(isnan(prev_forced_t),1,gte(t,prev_forced_t+2))');
    expect(valueOf(args, '-g:v:0')).toBe('60');
    expect(valueOf(args, '-keyint_min:v:0')).toBe('60');
    expect(args.slice(args.indexOf('0:a:0') - 1, args.indexOf('0:a:0') + 8)).toEqual(['-map', '0:a:0', '-c:a:0', 'aac', '-b:a:0', '128k', '-ac:a:0', '2', '-metadata']);
    expect(encoding.renditions).toEqual(['720p', '480p', '360p', 'audio']);
    expect(encoding.readsAudio).toBe(true);
  });

  test('passthrough of H.264 and AAC: no ffmpeg at all', () => {
    expect(run(job({ video: h264720, audio: aac }, { kind: 'passthrough', rungs: [], sourceRung: true }))).toBeUndefined();
  });

  test('passthrough of MP3: only the audio is encoded', () => {
    const encoding = run(job({ video: h264720, audio: { codec: 'mp3' } }, { kind: 'passthrough', rungs: [], sourceRung: true }))!;
    const args = toArgv(encoding.args);
    expect(args).not.toContain('libx264');
    expect(args).not.toContain('-filter_complex');
    expect(encoding.renditions).toEqual(['audio']);
  });

  test('audio only: no filter graph, no video encoder', () => {
    const args = argv(job({ audio: { codec: 'mp3' } }, ladder));
    expect(args).not.toContain('-filter_complex');
    expect(args).not.toContain('libx264');
    expect(args.slice(0, 9)).toEqual(INPUT);
  });

  test('a publisher back without audio: the origin gives the audio silence, ffmpeg encodes only video', () => {
    const base = job({ video: h264720, audio: { codec: 'mp3' } }, { ...ladder, sourceRung: false });
    const encoding = run({ ...base, input: { hasVideo: true, hasAudio: false, format: 'flv' } })!;
    expect(encoding.renditions).toEqual(['720p', '480p', '360p']);
    expect(encoding.readsAudio).toBe(false);
    expect(toArgv(encoding.args)).not.toContain('0:a:0');
  });

  test('1080p60 with 30 fps caps on the lower rungs: 720p keeps 60 fps, the capped rungs keep every source keyframe, the source is still copied', () => {
    const capped: Profile = { ...ladder, rungs: rungs.map((r) => (r.height <= 480 ? { ...r, maxFps: 30 } : r)) };
    const encoding = run(job({ video: { codec: 'h264', width: 1920, height: 1080, frameRate: 60, codecString: 'avc1.64002a' }, audio: aac }, capped))!;
    const select = "select='isnan(prev_selected_t)+key+gt(floor(t*30+0.25),floor(prev_selected_t*30+0.25))'";
    expect(valueOf(toArgv(encoding.args), '-filter_complex')).toBe(
      `[0:v:0]split=3[s0][s1][s2];[s0]scale=1280:720,format=yuv420p[v0];[s1]${select},scale=854:480,format=yuv420p[v1];[s2]${select},scale=640:360,format=yuv420p[v2]`,
    );
    expect(valueOf(toArgv(encoding.args), '-force_key_frames')).toBe('source');
    expect(encoding.renditions).toEqual(['720p', '480p', '360p']);
  });

  test('a publisher that stopped sending video: ffmpeg encodes only the audio, the video renditions wait', () => {
    const base = job({ video: h264720, audio: { codec: 'mp3' } }, { ...ladder, sourceRung: false });
    const encoding = run({ ...base, input: { hasVideo: false, hasAudio: true, format: 'flv' } })!;
    expect(encoding.renditions).toEqual(['audio']);
    expect(toArgv(encoding.args)).not.toContain('-filter_complex');
    // with nothing to encode (AAC is copied), no ffmpeg at all
    expect(buildFfmpegArgs({ ...job({ video: h264720, audio: { codec: 'aac' } }, ladder), input: { hasVideo: false, hasAudio: true, format: 'flv' } })).toBeUndefined();
  });

  test('poster: the first keyframe of a CMAF segment read after its init segment, one thread, written whole', () => {
    // prettier-ignore
    expect(toArgv(buildPosterArgs({ init: '/m/PB/sessions/S/360p/init_1.mp4', segment: '/m/PB/sessions/S/360p/seg_7.m4s', width: 640, height: 360, target: '/m/PB/poster.jpg' }))).toEqual([
      '-hide_banner', '-nostdin', '-skip_frame', 'nokey', '-threads', '1', '-i', 'concat:/m/PB/sessions/S/360p/init_1.mp4|/m/PB/sessions/S/360p/seg_7.m4s', '-y',
      '-map', '0:v:0', '-frames:v', '1', '-vf', 'scale=640:360,format=yuvj420p', '-c:v', 'mjpeg', '-q:v', '5',
      '-update', '1', '-atomic_writing', '1', '-f', 'image2', '/m/PB/poster.jpg',
    ]);
  });
});
