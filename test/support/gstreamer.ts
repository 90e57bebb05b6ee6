import type { TestPatternOptions } from '../../scripts/lib/test-pattern';
import { startProcess, type RunningProcess } from './processes';

/** As ffmpeg's test pattern takes them; `seconds` of video and audio are followed by the end of stream. */
export type GstPublisherOptions = Pick<TestPatternOptions, 'url' | 'width' | 'height' | 'fps' | 'seconds' | 'audio' | 'keyframeSeconds'>;

/**
 * gst-launch-1.0 arguments for a live test pattern with a tone, pushed with rtmp2sink: a publisher
 * built on another RTMP stack than ffmpeg's. With `-e`, the end of the sources (or SIGINT) is an
 * end of stream, on which rtmp2sink sends its stop commands before it closes the connection.
 * Elements: gstreamer1.0-plugins-base (test sources), -good (flvmux, aacparse), -bad (rtmp2sink,
 * h264parse, voaacenc) and -ugly (x264enc).
 */
export function gstPublisherArgs(options: GstPublisherOptions): string[] {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const fps = options.fps ?? 30;
  const frames = options.seconds === undefined ? undefined : Math.round(options.seconds * fps);
  // audiotestsrc's buffers are 1024 samples at 48 kHz.
  const audioBuffers = options.seconds === undefined ? undefined : Math.round((options.seconds * 48_000) / 1024);
  const count = (n: number | undefined) => (n === undefined ? [] : [`num-buffers=${n}`]);
  // prettier-ignore
  const args = [
    '-q', '-e',
    'videotestsrc', 'is-live=true', 'pattern=ball', ...count(frames),
    '!', `video/x-raw,width=${width},height=${height},framerate=${fps}/1,format=I420`,
    '!', 'x264enc', 'tune=zerolatency', 'speed-preset=ultrafast', `key-int-max=${Math.round(fps * (options.keyframeSeconds ?? 2))}`,
    '!', 'h264parse',
    '!', 'flvmux', 'name=mux', 'streamable=true',
    '!', 'rtmp2sink', `location=${options.url}`,
  ];
  if (options.audio ?? true) {
    args.push(
      'audiotestsrc',
      'is-live=true',
      'wave=sine',
      ...count(audioBuffers),
      '!',
      'audio/x-raw,rate=48000,channels=2',
      '!',
      'voaacenc',
      'bitrate=128000',
      '!',
      'aacparse',
      '!',
      'mux.',
    );
  }
  return args;
}

/** A GStreamer pipeline pushing a test pattern; stderr is kept, as for an ffmpeg publisher. */
export function startGstPublisher(options: GstPublisherOptions): RunningProcess {
  return startProcess('gst-launch-1.0', gstPublisherArgs(options));
}
