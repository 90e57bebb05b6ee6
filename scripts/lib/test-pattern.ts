// The test publisher's ffmpeg command: a moving test pattern with a tone, like a streamer's OBS.
// Used by scripts/test-publisher.ts, the benchmarks and the tests, so they all push the same thing.

export interface TestPatternOptions {
  url: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Stop after this many seconds; runs until stopped when omitted. */
  seconds?: number;
  audio?: boolean;
  video?: boolean;
  /** Keyframe interval in seconds. */
  keyframeSeconds?: number;
  videoBitrateKbps?: number;
}

export function testPatternArgs(options: TestPatternOptions): string[] {
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const fps = options.fps ?? 30;
  const withVideo = options.video ?? true;
  const withAudio = options.audio ?? true;
  if (!withVideo && !withAudio) throw new Error('a test pattern needs video or audio');
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'];
  if (withVideo) args.push('-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`);
  if (withAudio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  if (options.seconds !== undefined) args.push('-t', String(options.seconds));
  if (withVideo) {
    const gop = Math.round(fps * (options.keyframeSeconds ?? 2));
    const bitrate = options.videoBitrateKbps ?? 2500;
    args.push(
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
      '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
      '-b:v', `${bitrate}k`, '-maxrate', `${bitrate}k`, '-bufsize', `${bitrate * 2}k`,
    );
  }
  if (withAudio) args.push('-c:a', 'aac', '-b:a', '128k', '-ac', '2');
  args.push('-f', 'flv', options.url);
  return args;
}
