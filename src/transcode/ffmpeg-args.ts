import { VIDEO_TIMESCALE } from '../packaging/track';
import type { InputFormat } from './ffmpeg-input';
import type { EncodedVideo, LadderPlan } from './ladder';

export interface TranscodeJob {
  plan: LadderPlan;
  preset: string;
  segmentSeconds: number;
  /**
   * What this run's input carries (a later publisher may differ from the one the plan was made
   * for), and in what container it reaches ffmpeg (ffmpeg-input.ts).
   */
  input: { hasVideo: boolean; hasAudio: boolean; format: InputFormat };
  /**
   * The session's folder, put on the command line (as metadata of an output nobody keeps): an
   * operator's `ps` shows whose ffmpeg it is, and one left by a dead origin is found at start.
   */
  label: string;
}

export interface FfmpegInput {
  options: string[];
  source: string;
}

export interface FfmpegOutput {
  options: string[];
  target: string;
}

export interface FfmpegArgs {
  inputs: FfmpegInput[];
  outputs: FfmpegOutput[];
}

/** The one output of a ladder run, read by the origin: fragmented MP4 on stdout. */
export const FFMPEG_OUTPUT = 'pipe:1';

export interface EncodingRun {
  args: FfmpegArgs;
  /** The renditions ffmpeg writes, in the order of its output tracks. */
  renditions: string[];
  /** Whether ffmpeg reads the publisher's audio and its video: its input carries only what it encodes. */
  readsAudio: boolean;
  readsVideo: boolean;
  inputFormat: InputFormat;
}

/** With keyframes following the source, this GOP is only an upper bound (10 segments). */
const SOURCE_KEYFRAMES_GOP_SEGMENTS = 10;

/**
 * The renditions of a plan that ffmpeg makes for this input; the origin copies the rest (and gives
 * the audio renditions silence when the publisher sends no audio). A publisher that stopped
 * sending video gets no video renditions until it sends video again.
 */
function encodedRenditions(plan: LadderPlan, input: TranscodeJob['input']): { video: EncodedVideo[]; audio: string[] } {
  const video = input.hasVideo ? plan.video.filter((v): v is EncodedVideo => v.mode === 'encode') : [];
  const audio = input.hasAudio ? plan.audio.filter((a) => a.mode === 'encode').map((a) => a.name) : [];
  return { video, audio };
}

/**
 * One ffmpeg process for every encoded rendition: the source is decoded once, split and scaled per
 * rung, and each rung is a track of one fragmented MP4 on stdout, a fragment per frame, with the
 * input's own timestamps (-copyts), which the origin cuts into parts and segments as frames arrive.
 * Keyframes fall on the source's keyframes when the source is also copied (so every rendition cuts
 * at the same instants), else every segment duration from the first frame. Audio is encoded once
 * per audio rendition that needs it. Renditions that copy the source are not ffmpeg's business.
 * Undefined when there is nothing to encode.
 */
export function buildFfmpegArgs(job: TranscodeJob): EncodingRun | undefined {
  const { plan } = job;
  const encoded = encodedRenditions(plan, job.input);
  if (encoded.video.length === 0 && encoded.audio.length === 0) return undefined;
  const readsAudio = encoded.audio.length > 0;
  // ffmpeg probes its input for 5 s by default before it starts, waiting on an input without audio
  // for audio that never comes; the sequence headers come first and say all it needs.
  const inputs: FfmpegInput[] = [{ options: ['-hide_banner', '-analyzeduration', '100000', '-f', job.input.format], source: 'pipe:0' }];
  const out: string[] = ['-copyts'];

  if (encoded.video.length > 0) out.push('-filter_complex', filterGraph(encoded.video));
  encoded.video.forEach((rendition, i) => {
    const frameRate = rendition.frameRate ?? plan.frameRate;
    const segments = plan.keyframes === 'source' ? SOURCE_KEYFRAMES_GOP_SEGMENTS : 1;
    const gop = Math.max(1, Math.round(frameRate * job.segmentSeconds * segments));
    // prettier-ignore
    out.push(
      '-map', `[v${i}]`,
      `-c:v:${i}`, 'libx264',
      `-b:v:${i}`, `${rendition.videoBitrateKbps}k`,
      `-maxrate:v:${i}`, `${rendition.maxrateKbps}k`,
      `-bufsize:v:${i}`, `${rendition.bufsizeKbps}k`,
      `-profile:v:${i}`, rendition.profile,
      `-level:v:${i}`, rendition.level,
      `-g:v:${i}`, String(gop),
    );
    if (plan.keyframes === 'grid') out.push(`-keyint_min:v:${i}`, String(gop));
  });
  if (encoded.video.length > 0) {
    // prettier-ignore
    out.push(
      '-preset', job.preset,
      '-tune', 'zerolatency',
      '-sc_threshold', '0',
      '-force_key_frames', plan.keyframes === 'source' ? 'source' : `expr:if(isnan(prev_forced_t),1,gte(t,prev_forced_t+${job.segmentSeconds}))`,
      // Keep the source's timestamps: every rendition's keyframes then carry identical times.
      '-fps_mode:v', 'passthrough',
      '-enc_time_base:v', '-1',
    );
  }

  encoded.audio.forEach((name, i) => {
    const audio = plan.audio.find((a) => a.name === name)!;
    out.push('-map', '0:a:0', `-c:a:${i}`, 'aac', `-b:a:${i}`, `${audio.bitrateKbps}k`, `-ac:a:${i}`, String(Math.min(audio.channels, 2)));
  });

  // prettier-ignore
  out.push(
    '-metadata', `comment=${job.label}`,
    '-f', 'mp4',
    // A fragment per frame, written at once: the origin sees each frame as soon as it is encoded.
    '-movflags', 'empty_moov+default_base_moof+frag_every_frame+frag_discont',
    '-flush_packets', '1',
    // The input's timestamps as they are (not shifted to zero), in 90 kHz ticks like the copied renditions'.
    '-avoid_negative_ts', 'disabled',
    '-video_track_timescale', String(VIDEO_TIMESCALE),
  );
  return {
    args: { inputs, outputs: [{ options: out, target: FFMPEG_OUTPUT }] },
    renditions: [...encoded.video.map((v) => v.name), ...encoded.audio],
    readsAudio,
    readsVideo: encoded.video.length > 0,
    inputFormat: job.input.format,
  };
}

export interface PosterJob {
  /** A segment of a video rendition (it begins with a keyframe), and the init segment it needs. */
  init: string;
  segment: string;
  width: number;
  height: number;
  target: string;
}

/**
 * A poster from a segment: only its first keyframe is decoded, with one thread. A CMAF segment is
 * read after its init segment (ffmpeg's concat protocol joins the two files). The JPEG is written
 * beside the target and renamed over it, so a reader never sees half of one.
 */
export function buildPosterArgs(job: PosterJob): FfmpegArgs {
  return {
    inputs: [{ options: ['-hide_banner', '-nostdin', '-skip_frame', 'nokey', '-threads', '1'], source: `concat:${job.init}|${job.segment}` }],
    outputs: [
      {
        // prettier-ignore
        options: [
          '-map', '0:v:0',
          '-frames:v', '1',
          '-vf', `scale=${job.width}:${job.height},format=yuvj420p`,
          '-c:v', 'mjpeg', '-q:v', '5',
          '-update', '1', '-atomic_writing', '1', '-f', 'image2',
        ],
        target: job.target,
      },
    ],
  };
}

/** The argument vector as ffmpeg receives it from fluent-ffmpeg (which adds -y for file outputs). */
export function toArgv(args: FfmpegArgs): string[] {
  return [...args.inputs.flatMap((input) => [...input.options, '-i', input.source]), '-y', ...args.outputs.flatMap((output) => [...output.options, output.target])];
}

/**
 * At most `fps` frames a second, keeping the source's timestamps and every keyframe: the first
 * frame of each 1/fps slot goes on, and so does any keyframe, so that a capped rung is cut at the
 * same keyframes as a copied source rendition (the fps filter would drop the keyframes between
 * its grid's points). Slots begin a quarter slot early: FLV's whole milliseconds put a 60 fps
 * frame at 33 ms, just before 1/30 s.
 */
function frameRateCap(fps: number): string {
  const slot = (t: string) => `floor(${t}*${fps}+0.25)`;
  return `select='isnan(prev_selected_t)+key+gt(${slot('t')},${slot('prev_selected_t')})'`;
}

function filterGraph(encoded: readonly EncodedVideo[]): string {
  const branches = encoded.map((rendition, i) => {
    const steps = [];
    if (rendition.frameRate !== undefined) steps.push(frameRateCap(rendition.frameRate));
    steps.push(`scale=${rendition.width}:${rendition.height}`, 'format=yuv420p');
    return `${steps.join(',')}[v${i}]`;
  });
  if (branches.length === 1) return `[0:v:0]${branches[0]}`;
  const split = `[0:v:0]split=${branches.length}${branches.map((_, i) => `[s${i}]`).join('')}`;
  return [split, ...branches.map((branch, i) => `[s${i}]${branch}`)].join(';');
}
