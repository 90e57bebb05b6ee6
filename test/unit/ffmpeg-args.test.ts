import { buildFfmpegArgs, toArgv } from '../../src/transcode/ffmpeg-args';
import { planLadder } from '../../src/transcode/ladder';

const rungs = [
  { name: '720p', height: 720, videoBitrateKbps: 2800 },
  { name: '480p', height: 480, videoBitrateKbps: 1400 },
  { name: '360p', height: 360, videoBitrateKbps: 800 },
];
const job = {
  outputDir: '/media/live/PB',
  preset: 'veryfast',
  segmentSeconds: 2,
  listSize: 6,
  continuePlaylists: false,
};

describe('ffmpeg arguments (golden)', () => {
  test('default ladder for a 720p30 source with AAC audio', () => {
    const plan = planLadder({ video: { codec: 'h264', width: 1280, height: 720, frameRate: 30 }, audio: { codec: 'aac' } }, { rungs, audioBitrateKbps: 128 });
    expect(toArgv(buildFfmpegArgs({ ...job, plan }))).toEqual([
      '-hide_banner', '-f', 'flv', '-i', 'pipe:0', '-y',
      '-filter_complex',
      '[0:v:0]split=3[s0][s1][s2];[s0]scale=1280:720,format=yuv420p[v0];[s1]scale=854:480,format=yuv420p[v1];[s2]scale=640:360,format=yuv420p[v2]',
      '-map', '[v0]', '-c:v:0', 'libx264', '-b:v:0', '2800k', '-maxrate:v:0', '3080k', '-bufsize:v:0', '6160k', '-profile:v:0', 'high', '-level:v:0', '3.1', '-g:v:0', '60', '-keyint_min:v:0', '60',
      '-map', '[v1]', '-c:v:1', 'libx264', '-b:v:1', '1400k', '-maxrate:v:1', '1540k', '-bufsize:v:1', '3080k', '-profile:v:1', 'high', '-level:v:1', '3.1', '-g:v:1', '60', '-keyint_min:v:1', '60',
      '-map', '[v2]', '-c:v:2', 'libx264', '-b:v:2', '800k', '-maxrate:v:2', '880k', '-bufsize:v:2', '1760k', '-profile:v:2', 'main', '-level:v:2', '3.0', '-g:v:2', '60', '-keyint_min:v:2', '60',
      '-preset', 'veryfast', '-tune', 'zerolatency', '-sc_threshold', '0', '-force_key_frames', 'expr:gte(t,n_forced*2)',
      '-map', '0:a:0', '-c:a:0', 'aac', '-b:a:0', '128k', '-ac:a:0', '2',
      '-f', 'hls', '-hls_time', '2', '-hls_list_size', '6',
      '-hls_flags', 'independent_segments+program_date_time+temp_file+delete_segments+omit_endlist',
      '-hls_start_number_source', 'epoch', '-hls_segment_type', 'mpegts',
      '-hls_segment_filename', '/media/live/PB/%v/seg_%d.ts',
      '-var_stream_map', 'v:0,name:720p v:1,name:480p v:2,name:360p a:0,name:audio',
      '/media/live/PB/%v/index.m3u8',
    ]);
  });

  test('a single rung needs no split; a frame-rate cap adds an fps filter and a matching GOP', () => {
    const plan = planLadder(
      { video: { codec: 'h264', width: 640, height: 360, frameRate: 60 } },
      { rungs: [{ name: '360p', height: 360, videoBitrateKbps: 800, maxFps: 30 }], audioBitrateKbps: 128 },
    );
    const argv = toArgv(buildFfmpegArgs({ ...job, plan }));
    expect(argv[argv.indexOf('-filter_complex') + 1]).toBe('[0:v:0]fps=30,scale=640:360,format=yuv420p[v0]');
    expect(argv[argv.indexOf('-g:v:0') + 1]).toBe('60');
    expect(argv).not.toContain('0:a:0');
    expect(argv[argv.indexOf('-var_stream_map') + 1]).toBe('v:0,name:360p');
  });

  test('audio only: no filter graph, no video encoder', () => {
    const plan = planLadder({ audio: { codec: 'mp3' } }, { rungs, audioBitrateKbps: 96 });
    const argv = toArgv(buildFfmpegArgs({ ...job, plan }));
    expect(argv).not.toContain('-filter_complex');
    expect(argv).not.toContain('libx264');
    expect(argv[argv.indexOf('-var_stream_map') + 1]).toBe('a:0,name:audio');
    expect(argv[argv.indexOf('-b:a:0') + 1]).toBe('96k');
  });

  test('a later run of the same session appends to the playlists', () => {
    const plan = planLadder({ audio: { codec: 'aac' } }, { rungs, audioBitrateKbps: 128 });
    const argv = toArgv(buildFfmpegArgs({ ...job, plan, continuePlaylists: true }));
    expect(argv[argv.indexOf('-hls_flags') + 1]).toBe('independent_segments+program_date_time+temp_file+delete_segments+omit_endlist+append_list');
  });
});
