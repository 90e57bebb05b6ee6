import type { ChildProcess } from 'node:child_process';
import type net from 'node:net';
import type { Writable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import type { MediaTag } from '../ingest/media';
import type { ReadRounds } from '../ingest/read-rounds';
import type { Logger } from '../observability/logger';
import { FFMPEG_OUTPUT, type FfmpegArgs } from './ffmpeg-args';

export interface TranscoderExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the exit followed endInput() or stop(): not a failure of ffmpeg. */
  expected: boolean;
  /** Last lines ffmpeg wrote to stderr, for diagnosing a failure. */
  stderrTail: string[];
  spawnError?: string;
}

export interface TranscoderProgress {
  /** ffmpeg's `speed=`: media time per wall time since it started (SessionOutput shows the last seconds' instead). */
  speed?: number;
  fps?: number;
  /** ffmpeg's `time=`: output media time so far, seconds. */
  mediaSeconds?: number;
}

export interface TranscoderOptions {
  ffmpegPath: string;
  logger: Logger;
  /**
   * Input is gathered for about this long before it is written to ffmpeg (or until a write asks
   * for a flush); without it, written as it comes. See write().
   */
  inputBatchMs?: number;
  /** After stop() sends SIGINT, how long ffmpeg gets before SIGKILL. */
  stopGraceMs: number;
  onProgress?: (progress: TranscoderProgress) => void;
  /** Where ffmpeg's stdout goes, for an output to FFMPEG_OUTPUT. */
  stdout?: Writable;
  /**
   * ffmpeg's stdout is read in these rounds, with the publishers' sockets: it writes a fragment
   * per frame of each rendition, and each one woke the process.
   */
  readRounds?: ReadRounds;
  /** Strings on its command line that must not reach the log (a destination's stream key). */
  secrets?: string[];
}

const STDERR_TAIL_LINES = 30;

/** A part of a run (the copied renditions, or ffmpeg's): the publisher's tags in, an exit. */
export interface RunOutput {
  readonly exited: Promise<TranscoderExit>;
  /** Input accepted but not yet processed or written. */
  readonly backlogBytes: number;
  /** `flush`: the tag is near a keyframe, where segments are cut: it should not wait in a batch. */
  write(tag: MediaTag, flush: boolean): void;
  endInput(): void;
  stop(graceMs?: number): Promise<TranscoderExit>;
}

/**
 * One ffmpeg process fed through its stdin. Input may be written before start() (it is queued),
 * so that a run can be prepared while the previous one finishes. The session decides what to do
 * when it exits.
 */
export class Transcoder {
  readonly exited: Promise<TranscoderExit>;
  private process: ChildProcess | undefined;
  private args: FfmpegArgs | undefined;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private inputEnded = false;
  private stopRequested = false;
  private readonly stderrTail: string[] = [];
  private resolveExit!: (exit: TranscoderExit) => void;
  private killTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private batchStartedAt = 0;
  private flushQueued = false;

  constructor(private readonly options: TranscoderOptions) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  private redacted(text: string): string {
    let out = text;
    for (const secret of this.options.secrets ?? []) out = out.split(secret).join('[redacted]').split(encodeURIComponent(secret)).join('[redacted]');
    return out;
  }

  /** Bytes accepted by write() that ffmpeg has not read yet. */
  get backlogBytes(): number {
    return this.queuedBytes + (this.process?.stdin?.writableLength ?? 0);
  }

  start(args: FfmpegArgs): void {
    if (this.args) throw new Error('a transcoder starts once');
    this.args = args;
    if (this.stopRequested) {
      this.finish();
      return;
    }
    const command = ffmpeg({ stdoutLines: STDERR_TAIL_LINES }).setFfmpegPath(this.options.ffmpegPath);
    for (const input of args.inputs) command.input(input.source).inputOptions(...input.options);
    for (const output of args.outputs) {
      const target = output.target === FFMPEG_OUTPUT && this.options.stdout ? this.options.stdout : output.target;
      command.output(target).outputOptions(...output.options);
    }
    command.on('start', (commandLine: string) => {
      this.options.logger.debug({ commandLine: this.redacted(commandLine) }, 'ffmpeg started');
      this.process = (command as unknown as { ffmpegProc: ChildProcess }).ffmpegProc;
      this.process.stdin?.on('error', () => undefined); // EPIPE when ffmpeg dies; its exit is reported instead
      if (this.options.stdout && this.process.stdout) this.options.readRounds?.add(this.process.stdout as net.Socket, () => true);
      const queued = this.queued;
      this.queued = [];
      this.queuedBytes = 0;
      for (const chunk of queued) this.process.stdin?.write(chunk);
      if (this.inputEnded) this.process.stdin?.end();
      if (this.stopRequested) this.signal('SIGINT');
    });
    command.on('stderr', (line: string) => {
      this.stderrTail.push(this.redacted(line));
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
      const progress = parseProgress(line);
      if (progress) this.options.onProgress?.(progress);
    });
    command.on('end', () => this.finish());
    command.on('error', (error: Error) => this.finish(this.process ? undefined : error.message));
    command.run();
  }

  /**
   * `flush`: this chunk and what is gathered before it go to ffmpeg now. Otherwise a batch goes
   * out with the first write made once it is three quarters of `inputBatchMs` old. Publishers are
   * read in rounds (ReadRounds), so that write comes in a round's wake-up, and a batch timer of
   * its own would wake the process once more per batch; the timer only ends a batch that nothing
   * else does, at one and a half times `inputBatchMs`.
   */
  write(chunk: Buffer, flush = false): void {
    if (this.inputEnded) return;
    const stdin = this.process?.stdin;
    if (stdin) {
      if (stdin.destroyed) return;
      const batchMs = this.options.inputBatchMs;
      const now = performance.now();
      if (batchMs && stdin.writableCorked === 0) {
        stdin.cork();
        this.batchStartedAt = now;
        this.batchTimer = setTimeout(() => this.flushInput(), batchMs * 1.5);
      }
      stdin.write(chunk);
      const due = flush || (!!batchMs && now - this.batchStartedAt >= batchMs * 0.75);
      // Tags parsed from one socket read arrive together: they go out in one write.
      if (due && !this.flushQueued) {
        this.flushQueued = true;
        process.nextTick(() => this.flushInput());
      }
      return;
    }
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
  }

  private flushInput(): void {
    this.flushQueued = false;
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    // write() corks once per batch.
    if (this.process?.stdin?.writableCorked) this.process.stdin.uncork();
  }

  /** End of input: ffmpeg writes out what it has encoded and exits by itself. */
  endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    this.process?.stdin?.end();
  }

  /**
   * SIGINT (ffmpeg finalizes its output), then SIGKILL if it has not exited within the grace
   * period. A transcoder that never started just reports its end.
   */
  stop(graceMs = this.options.stopGraceMs): Promise<TranscoderExit> {
    if (!this.stopRequested) {
      this.stopRequested = true;
      this.inputEnded = true;
      if (!this.args) this.finish();
      if (this.process) this.signal('SIGINT');
      this.killTimer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    }
    return this.exited;
  }

  private signal(signal: NodeJS.Signals): void {
    const proc = this.process;
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
  }

  private finish(spawnError?: string): void {
    clearTimeout(this.killTimer);
    clearTimeout(this.batchTimer);
    this.queued = [];
    this.queuedBytes = 0;
    // Read from the process itself: fluent-ffmpeg reports the end before later 'exit' listeners run.
    this.resolveExit({
      code: this.process?.exitCode ?? null,
      signal: this.process?.signalCode ?? null,
      expected: this.inputEnded || this.stopRequested,
      stderrTail: [...this.stderrTail],
      ...(spawnError !== undefined && { spawnError }),
    });
  }
}

export function parseProgress(line: string): TranscoderProgress | undefined {
  const speed = /speed=\s*([\d.]+)x/.exec(line);
  if (!speed) return undefined;
  const fps = /fps=\s*([\d.]+)/.exec(line);
  const time = /time=\s*(\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(line);
  return {
    speed: Number(speed[1]),
    ...(fps && { fps: Number(fps[1]) }),
    ...(time && { mediaSeconds: Number(time[1]) * 3600 + Number(time[2]) * 60 + Number(time[3]) }),
  };
}
