// A run: what turns one publisher's media into every rendition of the plan, until that publisher
// leaves or the run is restarted. Copied renditions are packaged from ingest's samples in this
// process; encoded ones come from one ffmpeg. Both feed the packager through the same seam.
import type { MediaTag } from '../ingest/media';
import type { ReadRounds } from '../ingest/read-rounds';
import type { Logger } from '../observability/logger';
import type { RunPackaging } from '../packaging/packager';
import { isPackagedVideo } from '../packaging/track';
import { CopyRun } from './copy-run';
import { buildFfmpegArgs } from './ffmpeg-args';
import { inputFormatFor } from './ffmpeg-input';
import { FfmpegRun } from './ffmpeg-run';
import type { LadderPlan, SourceInfo } from './ladder';
import type { TranscoderExit, TranscoderProgress } from './transcoder';

export interface RunOptions {
  plan: LadderPlan;
  /** What this publisher sends (a later publisher may differ from the one the plan was made for). */
  source: SourceInfo;
  preset: string;
  segmentSeconds: number;
  /** The session's folder, on ffmpeg's command line (TranscodeJob.label). */
  label: string;
  ffmpegPath: string;
  stopGraceMs: number;
  /** ffmpeg's input batching (Transcoder), for the video it reads. */
  inputBatchMs: number;
  /** ffmpeg's output is read in these rounds. */
  readRounds?: ReadRounds;
  logger: Logger;
  onProgress: (progress: TranscoderProgress) => void;
}

export class Run {
  /** The first part that fails, or every part once all have finished. */
  readonly exited: Promise<TranscoderExit>;
  private readonly parts: Array<CopyRun | FfmpegRun>;
  private readonly encoder: FfmpegRun | undefined;
  private packaging: RunPackaging | undefined;
  /** The first media tag's timestamp: where every rendition of the run starts. */
  private firstMediaMs: number | undefined;
  /** The renditions this run makes (all of the plan's, unless the publisher sends no video). */
  readonly renditions: readonly string[];

  constructor(options: RunOptions) {
    const { plan, source } = options;
    const format = inputFormatFor(source.video?.codec, source.video !== undefined);
    // In MP4, ffmpeg gets AAC audio only (all that OBS and ffmpeg send with HEVC or AV1); other audio is left for silence.
    const input = { hasVideo: source.video !== undefined, hasAudio: source.audio !== undefined && (format === 'flv' || source.audio.codec === 'aac'), format };
    const encoding = buildFfmpegArgs({ plan, preset: options.preset, segmentSeconds: options.segmentSeconds, input, label: options.label });
    const copiedVideo = plan.video.find((v) => v.mode === 'copy' && source.video !== undefined && isPackagedVideo(source.video.codec));
    const copiedAudio = plan.audio.find((a) => a.mode === 'copy' && source.audio?.codec === 'aac');
    const silence = input.hasAudio ? [] : plan.audio.map((a) => a.name);
    this.renditions = [...(copiedVideo ? [copiedVideo.name] : []), ...(encoding?.renditions ?? []), ...(copiedAudio ? [copiedAudio.name] : []), ...silence];
    this.parts = [];
    if (copiedVideo || copiedAudio || silence.length > 0) {
      this.parts.push(
        new CopyRun({
          ...(copiedVideo && { video: copiedVideo.name }),
          ...(copiedAudio && { audio: copiedAudio.name }),
          silence,
          ...(source.video && { size: { width: source.video.width, height: source.video.height } }),
        }),
      );
    }
    if (encoding) {
      this.encoder = new FfmpegRun({
        ffmpegPath: options.ffmpegPath,
        logger: options.logger,
        stopGraceMs: options.stopGraceMs,
        onProgress: options.onProgress,
        encoding,
        inputBatchMs: options.inputBatchMs,
        ...(options.readRounds && { readRounds: options.readRounds }),
        ...(source.video && { size: { width: source.video.width, height: source.video.height } }),
      });
      this.parts.push(this.encoder);
    }
    const all = Promise.all(this.parts.map((part) => part.exited)).then((exits) => exits.find((exit) => !exit.expected) ?? exits[0]!);
    const firstFailure = new Promise<TranscoderExit>((resolve) => {
      for (const part of this.parts) void part.exited.then((exit) => !exit.expected && resolve(exit));
    });
    this.exited = Promise.race([all, firstFailure]);
    // Whatever the parts gave is packaged once they have all finished.
    void all.then(() => {
      try {
        this.packaging?.end();
      } catch (error) {
        options.logger.error({ err: error }, 'cannot package the end of the run');
      }
    });
  }

  /** ffmpeg's input that it has not read yet. */
  get backlogBytes(): number {
    return this.encoder?.backlogBytes ?? 0;
  }

  /** Input written before this waits; the packager's run begins here. */
  start(packaging: RunPackaging): void {
    this.packaging = packaging;
    if (this.firstMediaMs !== undefined) packaging.startsAt(this.firstMediaMs);
    for (const part of this.parts) part.start(packaging);
  }

  write(tag: MediaTag, flush: boolean): void {
    if (this.firstMediaMs === undefined && tag.kind !== 'metadata' && !tag.config) {
      this.firstMediaMs = tag.timestamp;
      this.packaging?.startsAt(tag.timestamp);
    }
    for (const part of this.parts) part.write(tag, flush);
  }

  endInput(): void {
    for (const part of this.parts) part.endInput();
  }

  async stop(graceMs?: number): Promise<TranscoderExit> {
    await Promise.all(this.parts.map((part) => part.stop(graceMs)));
    return this.exited;
  }
}
