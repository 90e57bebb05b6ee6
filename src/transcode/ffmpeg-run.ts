// The encoded renditions of a run: one ffmpeg, fed the publisher's media on stdin (ffmpeg-input.ts),
// its fragmented MP4 read back from stdout into samples for the packager.
import { Writable } from 'node:stream';
import type { MediaTag } from '../ingest/media';
import type { ReadRounds } from '../ingest/read-rounds';
import type { Logger } from '../observability/logger';
import type { MediaSink } from '../packaging/packager';
import type { EncodingRun } from './ffmpeg-args';
import { ffmpegStdin, type FfmpegStdin } from './ffmpeg-input';
import { Fmp4Reader } from './fmp4-reader';
import { Transcoder, type RunOutput, type TranscoderExit, type TranscoderProgress } from './transcoder';

export interface FfmpegRunOptions {
  ffmpegPath: string;
  logger: Logger;
  stopGraceMs: number;
  /** See Transcoder: video input is written in batches of about this long, except near keyframes. */
  inputBatchMs: number;
  /** ffmpeg's output is read in these rounds (Transcoder). */
  readRounds?: ReadRounds;
  onProgress: (progress: TranscoderProgress) => void;
  encoding: EncodingRun;
  /** The source's size, for a sequence header whose own could not be read (MP4 input needs it). */
  size?: { width: number; height: number };
}

/** After ffmpeg exits, how long its last output may take to be read. */
const OUTPUT_DRAIN_MS = 2000;

export class FfmpegRun implements RunOutput {
  readonly exited: Promise<TranscoderExit>;
  private readonly transcoder: Transcoder;
  private sink: MediaSink | undefined;
  private failure: string | undefined;
  private readonly drained: Promise<void>;
  private readonly stdin: FfmpegStdin;

  constructor(private readonly options: FfmpegRunOptions) {
    const { encoding } = options;
    const reader = new Fmp4Reader({
      tracks: (tracks) => tracks.forEach((track, i) => this.sink?.track(encoding.renditions[i]!, track)),
      sample: (index, sample) => this.sink?.sample(encoding.renditions[index]!, sample),
    });
    const stdout = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        if (this.failure === undefined) {
          try {
            reader.push(chunk);
          } catch (error) {
            this.failure = error instanceof Error ? error.message : String(error);
            options.logger.error({ err: error }, 'cannot read what ffmpeg wrote');
            void this.transcoder.stop(0);
          }
        }
        done();
      },
    });
    this.drained = new Promise((resolve) => stdout.once('finish', resolve).once('close', resolve));
    this.transcoder = new Transcoder({
      ffmpegPath: options.ffmpegPath,
      logger: options.logger,
      stopGraceMs: options.stopGraceMs,
      onProgress: options.onProgress,
      stdout,
      ...(options.readRounds && { readRounds: options.readRounds }),
      // Audio alone needs no batching: there are no keyframes to cut at.
      ...(encoding.readsVideo && { inputBatchMs: options.inputBatchMs }),
    });
    this.stdin = ffmpegStdin(encoding.inputFormat, { video: encoding.readsVideo, audio: encoding.readsAudio, ...(options.size && { size: options.size }) });
    for (const chunk of this.stdin.header) this.transcoder.write(chunk);
    this.exited = this.transcoder.exited.then(async (exit) => {
      await Promise.race([this.drained, new Promise((resolve) => setTimeout(resolve, OUTPUT_DRAIN_MS))]);
      return this.failure === undefined ? exit : { ...exit, expected: false, stderrTail: [...exit.stderrTail, this.failure] };
    });
  }

  get backlogBytes(): number {
    return this.transcoder.backlogBytes;
  }

  start(sink: MediaSink): void {
    this.sink = sink;
    this.transcoder.start(this.options.encoding.args);
  }

  write(tag: MediaTag, flush: boolean): void {
    if ((tag.kind === 'audio' && !this.options.encoding.readsAudio) || (tag.kind === 'video' && !this.options.encoding.readsVideo)) return;
    const chunks = this.stdin.tag(tag);
    chunks.forEach((chunk, i) => this.transcoder.write(chunk, flush && i === chunks.length - 1));
  }

  endInput(): void {
    this.transcoder.endInput();
  }

  stop(graceMs?: number): Promise<TranscoderExit> {
    return this.transcoder.stop(graceMs).then(() => this.exited);
  }
}
