import path from 'node:path';
import type { LadderPlan } from './ladder';

export interface TranscodeJob {
  plan: LadderPlan;
  /** Folder of this stream's live output: <folder>/<rendition>/index.m3u8. */
  outputDir: string;
  preset: string;
  segmentSeconds: number;
  listSize: number;
  /**
   * A later ffmpeg run of the same session (publisher reconnect, transcoder restart): continue the
   * existing playlists so that media sequence numbers keep increasing and the join is marked with
   * EXT-X-DISCONTINUITY.
   */
  continuePlaylists: boolean;
}

export interface FfmpegArgs {
  inputOptions: string[];
  input: string;
  outputOptions: string[];
  output: string;
}

/**
 * One ffmpeg process for the whole ladder: the source is decoded once, split and scaled per rung.
 * Keyframes are forced on the segment grid in every rung, so segment boundaries line up.
 * Audio is encoded once into its own rendition that every video rendition refers to.
 */
export function buildFfmpegArgs(job: TranscodeJob): FfmpegArgs {
  const { plan } = job;
  const outputOptions: string[] = [];
  const variants: string[] = [];

  if (plan.video.length > 0) {
    outputOptions.push('-filter_complex', videoFilterGraph(plan));
    plan.video.forEach((rendition, i) => {
      const gop = Math.max(1, Math.round((rendition.frameRate ?? plan.frameRate) * job.segmentSeconds));
      outputOptions.push(
        '-map', `[v${i}]`,
        `-c:v:${i}`, 'libx264',
        `-b:v:${i}`, `${rendition.videoBitrateKbps}k`,
        `-maxrate:v:${i}`, `${rendition.maxrateKbps}k`,
        `-bufsize:v:${i}`, `${rendition.bufsizeKbps}k`,
        `-profile:v:${i}`, rendition.profile,
        `-level:v:${i}`, rendition.level,
        `-g:v:${i}`, String(gop),
        `-keyint_min:v:${i}`, String(gop),
      );
      variants.push(`v:${i},name:${rendition.name}`);
    });
    outputOptions.push(
      '-preset', job.preset,
      '-tune', 'zerolatency',
      '-sc_threshold', '0',
      '-force_key_frames', `expr:gte(t,n_forced*${job.segmentSeconds})`,
    );
  }
  if (plan.audio) {
    outputOptions.push('-map', '0:a:0', '-c:a:0', 'aac', '-b:a:0', `${plan.audio.bitrateKbps}k`, '-ac:a:0', String(plan.audio.channels));
    variants.push(`a:0,name:${plan.audio.name}`);
  }

  const flags = ['independent_segments', 'program_date_time', 'temp_file', 'delete_segments', 'omit_endlist'];
  if (job.continuePlaylists) flags.push('append_list');
  outputOptions.push(
    '-f', 'hls',
    '-hls_time', String(job.segmentSeconds),
    '-hls_list_size', String(job.listSize),
    '-hls_flags', flags.join('+'),
    // Sequence numbers (and segment names) start from the clock, so a later session of the same
    // stream never reuses a segment URL that a cache may still hold.
    '-hls_start_number_source', 'epoch',
    '-hls_segment_type', 'mpegts',
    '-hls_segment_filename', path.join(job.outputDir, '%v', 'seg_%d.ts'),
    '-var_stream_map', variants.join(' '),
  );

  return {
    inputOptions: ['-hide_banner', '-f', 'flv'],
    input: 'pipe:0',
    outputOptions,
    output: path.join(job.outputDir, '%v', 'index.m3u8'),
  };
}

/** The argument vector as ffmpeg receives it from fluent-ffmpeg (which adds -y for file outputs). */
export function toArgv(args: FfmpegArgs): string[] {
  return [...args.inputOptions, '-i', args.input, '-y', ...args.outputOptions, args.output];
}

function videoFilterGraph(plan: LadderPlan): string {
  const count = plan.video.length;
  const chains = plan.video.map((rendition, i) => {
    const steps = [];
    if (rendition.frameRate !== undefined) steps.push(`fps=${rendition.frameRate}`);
    steps.push(`scale=${rendition.width}:${rendition.height}`, 'format=yuv420p');
    const input = count === 1 ? '[0:v:0]' : `[s${i}]`;
    return `${input}${steps.join(',')}[v${i}]`;
  });
  if (count === 1) return chains[0]!;
  const split = `[0:v:0]split=${count}${plan.video.map((_, i) => `[s${i}]`).join('')}`;
  return [split, ...chains].join(';');
}
