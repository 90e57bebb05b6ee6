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
  /** B-frames between references, as OBS's x264 sends by default (2); none unless asked. */
  bFrames?: number;
  /**
   * Burn the media time into the picture, as 20 black-or-white blocks along the top (bit i of
   * floor(t * 100)): a player can read how old the frame on screen is.
   */
  burnClock?: boolean;
  /** A still picture of this colour (an ffmpeg colour name) instead of the test pattern: tells streams or sessions apart by their picture. */
  colour?: string;
  /** x264's input pixel format (yuv420p): yuv422p makes High 4:2:2, yuv420p10le High 10. */
  pixelFormat?: string;
  /** Write the FLV to stdout instead of pushing it (to feed another ffmpeg through a pipe). */
  toStdout?: boolean;
}

export const CLOCK_BITS = 20;
export const CLOCK_BLOCK = 24;

/** drawbox filters for the burned-in clock. */
export function clockFilter(): string {
  const boxes = [`drawbox=x=0:y=0:w=${CLOCK_BITS * CLOCK_BLOCK}:h=${CLOCK_BLOCK}:color=black:t=fill`];
  for (let bit = 0; bit < CLOCK_BITS; bit++) {
    boxes.push(`drawbox=x=${bit * CLOCK_BLOCK}:y=0:w=${CLOCK_BLOCK}:h=${CLOCK_BLOCK}:color=white:t=fill:enable='mod(floor(t*100/${2 ** bit}),2)'`);
  }
  return boxes.join(',');
}

export function testPatternArgs(options: TestPatternOptions): string[] {
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const fps = options.fps ?? 30;
  const withVideo = options.video ?? true;
  const withAudio = options.audio ?? true;
  if (!withVideo && !withAudio) throw new Error('a test pattern needs video or audio');
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'];
  if (withVideo) {
    const source = options.colour === undefined ? 'testsrc2=' : `color=c=${options.colour}:`;
    args.push('-f', 'lavfi', '-i', `${source}size=${width}x${height}:rate=${fps}`);
  }
  if (withAudio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  if (options.seconds !== undefined) args.push('-t', String(options.seconds));
  if (withVideo && options.burnClock) args.push('-vf', clockFilter());
  if (withVideo) {
    const gop = Math.round(fps * (options.keyframeSeconds ?? 2));
    const bitrate = options.videoBitrateKbps ?? 2500;
    // prettier-ignore
    args.push(
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', options.pixelFormat ?? 'yuv420p',
      '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0',
      '-b:v', `${bitrate}k`, '-maxrate', `${bitrate}k`, '-bufsize', `${bitrate * 2}k`,
    );
    if (options.bFrames) args.push('-bf', String(options.bFrames));
  }
  if (withAudio) args.push('-c:a', 'aac', '-b:a', '128k', '-ac', '2');
  args.push('-f', 'flv', options.toStdout ? 'pipe:1' : options.url);
  return args;
}
