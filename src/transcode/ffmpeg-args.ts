import path from 'node:path';
import { ffmpegPlaylistName } from '../hls/media-layout';
import type { EncodedVideo, LadderPlan } from './ladder';

export interface TranscodeJob {
  plan: LadderPlan;
  /** The session's folder: <folder>/<rendition>/seg_N.ts, and ffmpeg's own playlists beside the rendition folders. */
  outputDir: string;
  preset: string;
  segmentSeconds: number;
  /** Number of the first segment, so that a later run (reconnect, restart) continues the session's numbering. */
  startNumber: number;
  /** What this run's input carries; a later publisher may differ from the one the plan was made for. */
  input: { hasVideo: boolean; hasAudio: boolean };
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

/** Segments listed in ffmpeg's own playlist: enough for the collector to never miss one. */
const FFMPEG_LIST_SIZE = 10;
/** With keyframes following the source, this GOP is only an upper bound (10 segments). */
const SOURCE_KEYFRAMES_GOP_SEGMENTS = 10;

/**
 * One ffmpeg process for the whole ladder: the source is decoded once, split and scaled per rung;
 * an H.264 source can be copied as is into a "source" rendition. Keyframes fall on the segment
 * grid (or on the source's keyframes when a rendition is copied), with the source's timestamps, so
 * every rendition cuts its segments at the same instants. Audio is encoded (or copied) once per
 * audio rendition and shared by the video renditions. Nothing is decoded that no rendition needs:
 * posters are made apart, when asked for (buildPosterArgs).
 */
export function buildFfmpegArgs(job: TranscodeJob): FfmpegArgs {
  const { plan } = job;
  const inputs: FfmpegInput[] = [{ options: ['-hide_banner', '-f', 'flv'], source: 'pipe:0' }];
  const hls: string[] = [];
  const variants: string[] = [];
  const encoded = plan.video.filter((v): v is EncodedVideo => v.mode === 'encode');

  if (plan.video.length > 0 && !job.input.hasVideo) throw new Error('this plan needs video and the input has none');
  if (encoded.length > 0) hls.push('-filter_complex', filterGraph(encoded));

  plan.video.forEach((rendition, i) => {
    variants.push(`v:${i},name:${rendition.name}`);
    if (rendition.mode === 'copy') {
      hls.push('-map', '0:v:0', `-c:v:${i}`, 'copy');
      return;
    }
    const label = `v${encoded.indexOf(rendition)}`;
    const frameRate = rendition.frameRate ?? plan.frameRate;
    const segments = plan.keyframes === 'source' ? SOURCE_KEYFRAMES_GOP_SEGMENTS : 1;
    const gop = Math.max(1, Math.round(frameRate * job.segmentSeconds * segments));
    hls.push(
      '-map', `[${label}]`,
      `-c:v:${i}`, 'libx264',
      `-b:v:${i}`, `${rendition.videoBitrateKbps}k`,
      `-maxrate:v:${i}`, `${rendition.maxrateKbps}k`,
      `-bufsize:v:${i}`, `${rendition.bufsizeKbps}k`,
      `-profile:v:${i}`, rendition.profile,
      `-level:v:${i}`, rendition.level,
      `-g:v:${i}`, String(gop),
    );
    if (plan.keyframes === 'grid') hls.push(`-keyint_min:v:${i}`, String(gop));
  });
  if (encoded.length > 0) {
    hls.push(
      '-preset', job.preset,
      '-tune', 'zerolatency',
      '-sc_threshold', '0',
      '-force_key_frames', plan.keyframes === 'source' ? 'source' : `expr:gte(t,n_forced*${job.segmentSeconds})`,
      // Keep the source's timestamps: every rendition's keyframes then carry identical times.
      '-fps_mode:v', 'passthrough',
      '-enc_time_base:v', '-1',
    );
  }

  const silence = plan.audio.length > 0 && !job.input.hasAudio;
  if (silence) inputs.push({ options: ['-f', 'lavfi'], source: 'anullsrc=channel_layout=stereo:sample_rate=48000' });
  plan.audio.forEach((audio, i) => {
    variants.push(`a:${i},name:${audio.name}`);
    hls.push('-map', silence ? '1:a:0' : '0:a:0');
    // A publisher that came back without audio gets silence, encoded, in the same rendition.
    if (audio.mode === 'copy' && !silence) hls.push(`-c:a:${i}`, 'copy');
    else hls.push(`-c:a:${i}`, 'aac', `-b:a:${i}`, `${audio.bitrateKbps}k`, `-ac:a:${i}`, String(Math.min(audio.channels, 2)));
  });
  if (silence) hls.push('-shortest');

  hls.push(
    '-f', 'hls',
    '-hls_time', String(job.segmentSeconds),
    '-hls_list_size', String(FFMPEG_LIST_SIZE),
    '-hls_flags', 'independent_segments+program_date_time+temp_file+omit_endlist',
    '-start_number', String(job.startNumber),
    '-hls_segment_type', 'mpegts',
    '-hls_segment_filename', path.join(job.outputDir, '%v', 'seg_%d.ts'),
    '-var_stream_map', variants.join(' '),
  );
  return { inputs, outputs: [{ options: hls, target: path.join(job.outputDir, ffmpegPlaylistName('%v')) }] };
}

export interface PosterJob {
  /** A segment of a video rendition: it begins with a keyframe. */
  segment: string;
  width: number;
  height: number;
  target: string;
}

/**
 * A poster from a segment: only its first keyframe is decoded, with one thread. The JPEG is written
 * beside the target and renamed over it, so a reader never sees half of one.
 */
export function buildPosterArgs(job: PosterJob): FfmpegArgs {
  return {
    inputs: [{ options: ['-hide_banner', '-nostdin', '-skip_frame', 'nokey', '-threads', '1'], source: job.segment }],
    outputs: [
      {
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
  return [
    ...args.inputs.flatMap((input) => [...input.options, '-i', input.source]),
    '-y',
    ...args.outputs.flatMap((output) => [...output.options, output.target]),
  ];
}

function filterGraph(encoded: readonly EncodedVideo[]): string {
  const branches = encoded.map((rendition, i) => {
    const steps = [];
    if (rendition.frameRate !== undefined) steps.push(`fps=${rendition.frameRate}`);
    steps.push(`scale=${rendition.width}:${rendition.height}`, 'format=yuv420p');
    return `${steps.join(',')}[v${i}]`;
  });
  if (branches.length === 1) return `[0:v:0]${branches[0]}`;
  const split = `[0:v:0]split=${branches.length}${branches.map((_, i) => `[s${i}]`).join('')}`;
  return [split, ...branches.map((branch, i) => `[s${i}]${branch}`)].join(';');
}
