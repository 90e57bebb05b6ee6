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
  const plan = planLadder(source, { profile, audioBitrateKbps: 128 });
  return {
    plan,
    outputDir: '/media/live/PB/sessions/S',
    preset: 'veryfast',
    segmentSeconds: 2,
    startNumber: 0,
    input: { hasVideo: source.video !== undefined, hasAudio: source.audio !== undefined },
    ...extra,
  };
}
const argv = (j: TranscodeJob) => toArgv(buildFfmpegArgs(j));
const valueOf = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('ffmpeg arguments (golden)', () => {
  test('default ladder, 720p30 H.264 + AAC: source copied, two rungs encoded on its keyframes, audio copied', () => {
    expect(argv(job({ video: h264720, audio: aac }, ladder))).toEqual([
      '-hide_banner', '-f', 'flv', '-i', 'pipe:0', '-y',
      '-filter_complex',
      '[0:v:0]split=2[s0][s1];[s0]scale=854:480,format=yuv420p[v0];[s1]scale=640:360,format=yuv420p[v1]',
      '-map', '0:v:0', '-c:v:0', 'copy',
      '-map', '[v0]', '-c:v:1', 'libx264', '-b:v:1', '1400k', '-maxrate:v:1', '1540k', '-bufsize:v:1', '3080k', '-profile:v:1', 'high', '-level:v:1', '3.1', '-g:v:1', '600',
      '-map', '[v1]', '-c:v:2', 'libx264', '-b:v:2', '800k', '-maxrate:v:2', '880k', '-bufsize:v:2', '1760k', '-profile:v:2', 'main', '-level:v:2', '3.0', '-g:v:2', '600',
      '-preset', 'veryfast', '-tune', 'zerolatency', '-sc_threshold', '0', '-force_key_frames', 'source', '-fps_mode:v', 'passthrough', '-enc_time_base:v', '-1',
      '-map', '0:a:0', '-c:a:0', 'copy',
      '-f', 'hls', '-hls_time', '2', '-hls_list_size', '10',
      '-hls_flags', 'independent_segments+program_date_time+temp_file+omit_endlist',
      '-start_number', '0', '-hls_segment_type', 'mpegts',
      '-hls_segment_filename', '/media/live/PB/sessions/S/%v/seg_%d.ts',
      '-var_stream_map', 'v:0,name:source v:1,name:480p v:2,name:360p a:0,name:audio',
      '/media/live/PB/sessions/S/.ffmpeg.%v.m3u8',
    ]);
  });

  test('without a source rung: keyframes on the 2-second grid, fixed GOP', () => {
    const args = argv(job({ video: { ...h264720, width: 1920, height: 1080 }, audio: { codec: 'mp3' } }, { ...ladder, sourceRung: false }));
    expect(valueOf(args, '-force_key_frames')).toBe('expr:gte(t,n_forced*2)');
    expect(valueOf(args, '-g:v:0')).toBe('60');
    expect(valueOf(args, '-keyint_min:v:0')).toBe('60');
    expect(valueOf(args, '-var_stream_map')).toBe('v:0,name:720p v:1,name:480p v:2,name:360p a:0,name:audio');
    expect(args.slice(args.indexOf('-c:a:0'), args.indexOf('-c:a:0') + 6)).toEqual(['-c:a:0', 'aac', '-b:a:0', '128k', '-ac:a:0', '2']);
  });

  test('passthrough: nothing decoded, nothing encoded', () => {
    const args = argv(job({ video: h264720, audio: aac }, { kind: 'passthrough', rungs: [], sourceRung: true }));
    expect(args.slice(0, 6)).toEqual(['-hide_banner', '-f', 'flv', '-i', 'pipe:0', '-y']);
    expect(args).not.toContain('libx264');
    expect(args).not.toContain('-filter_complex');
    expect(args).not.toContain('image2');
    expect(valueOf(args, '-var_stream_map')).toBe('v:0,name:source a:0,name:audio');
  });

  test('poster: the first keyframe of a segment, one thread, written whole', () => {
    expect(toArgv(buildPosterArgs({ segment: '/media/live/PB/sessions/S/360p/seg_7.ts', width: 640, height: 360, target: '/media/live/PB/poster.jpg' }))).toEqual([
      '-hide_banner', '-nostdin', '-skip_frame', 'nokey', '-threads', '1', '-i', '/media/live/PB/sessions/S/360p/seg_7.ts', '-y',
      '-map', '0:v:0', '-frames:v', '1', '-vf', 'scale=640:360,format=yuvj420p', '-c:v', 'mjpeg', '-q:v', '5',
      '-update', '1', '-atomic_writing', '1', '-f', 'image2', '/media/live/PB/poster.jpg',
    ]);
  });

  test('audio only: no filter graph, no video encoder', () => {
    const args = argv(job({ audio: { codec: 'mp3' } }, ladder));
    expect(args).not.toContain('-filter_complex');
    expect(args).not.toContain('libx264');
    expect(args).not.toContain('image2');
    expect(valueOf(args, '-var_stream_map')).toBe('a:0,name:audio');
  });

  test('a later run continues the numbering; a publisher back without audio gets silence', () => {
    const base = job({ video: h264720, audio: aac }, ladder);
    const args = argv({ ...base, startNumber: 57, input: { hasVideo: true, hasAudio: false } });
    expect(valueOf(args, '-start_number')).toBe('57');
    expect(args.slice(5, 11)).toEqual(['-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=48000', '-y', '-filter_complex']);
    expect(args.slice(args.indexOf('1:a:0') - 1, args.indexOf('1:a:0') + 8)).toEqual(['-map', '1:a:0', '-c:a:0', 'aac', '-b:a:0', '128k', '-ac:a:0', '2', '-shortest']);
  });

  test('a plan with video cannot run on an input without it', () => {
    const base = job({ video: h264720 }, ladder);
    expect(() => buildFfmpegArgs({ ...base, input: { hasVideo: false, hasAudio: true } })).toThrow(/needs video/);
  });
});
