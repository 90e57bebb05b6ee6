import fs from 'node:fs';
import path from 'node:path';
import type { PlaylistSegment } from '../hls/media-playlist';
import type { Logger } from '../observability/logger';
import { AAC_FRAME_SAMPLES, adtsFrame, avccToAnnexB, parseAacConfig, parseAvcConfig, type AacConfig, type AvcConfig } from './bitstreams';
import type { TranscodeJob } from './ffmpeg-args';
import type { LadderPlan } from './ladder';
import { TS_CLOCK_HZ, TS_PACKET_SIZE, TsWriter } from './mpegts';
import type { RunOutput, TranscoderExit } from './transcoder';

/**
 * Media time given to a run's first frame, like ffmpeg's: later frames may carry a composition
 * offset or arrive slightly out of order without going negative, and the PCR can run ahead of them.
 */
const START_TICKS = 1.4 * TS_CLOCK_HZ;
const PCR_LEAD_TICKS = 0.7 * TS_CLOCK_HZ;
/** FLV timestamps are whole milliseconds: a keyframe this close to the segment grid is on it. */
const GRID_TOLERANCE_MS = 50;
/** Audio frames are gathered into one PES up to this much media time, as ffmpeg does. */
const AUDIO_PES_MS = 90;

const FLV_AUDIO = 8;
const FLV_VIDEO = 9;
const FLV_TAG_HEADER = 11;
const CODEC_AVC = 7;
const SOUND_AAC = 10;

/** Whether a run can be remuxed in-process: every rendition copies an H.264 or AAC input as it is. */
export function remuxable(plan: LadderPlan, input: { video?: { codec: string }; audio?: { codec: string } }): boolean {
  if (plan.video.length > 1 || plan.audio.length > 1) return false;
  if (plan.video.some((v) => v.mode !== 'copy') || plan.audio.some((a) => a.mode !== 'copy')) return false;
  if (plan.video.length > 0 && input.video?.codec !== 'h264') return false;
  return plan.audio.length === 0 || input.audio?.codec === 'aac';
}

export interface RemuxerOptions {
  logger: Logger;
  /**
   * A segment is written: for the session's playlists (SegmentCollector.add). Handing it over saves
   * writing a playlist as ffmpeg does and reading it back, half the file operations per segment.
   */
  onSegment: (rendition: string, segment: Omit<PlaylistSegment, 'discontinuity'>) => Promise<void>;
}

/** The smallest block a segment's packets are written into. */
const MIN_BLOCK_BYTES = 64 * 1024;

/**
 * A segment's transport packets, written in place into a few large blocks: a buffer per packet
 * group made the garbage collector the origin's largest cost after the copying itself.
 */
class Segment {
  readonly blocks: Buffer[] = [];
  bytes = 0;
  private block: Buffer;
  private used = 0;

  constructor(
    readonly number: number,
    readonly startMs: number,
    private readonly blockBytes: number,
  ) {
    this.block = Buffer.allocUnsafe(blockBytes);
  }

  /** A view of `bytes` fresh bytes at the end of the segment. */
  readonly place = (bytes: number): Buffer => {
    if (this.used + bytes > this.block.length) {
      this.seal();
      this.block = Buffer.allocUnsafe(Math.max(this.blockBytes, bytes));
    }
    const view = this.block.subarray(this.used, this.used + bytes);
    this.used += bytes;
    this.bytes += bytes;
    return view;
  };

  /** The filled part of every block, once nothing more is written. */
  seal(): Buffer[] {
    if (this.used > 0) this.blocks.push(this.block.subarray(0, this.used));
    this.used = 0;
    this.block = Buffer.alloc(0);
    return this.blocks;
  }
}

/** One rendition's segments: open one, cut it, list the finished ones. */
class RenditionOutput {
  readonly ts: TsWriter;
  open: Segment | undefined;
  /** The end of the grid slot the open segment is in: a keyframe from here on cuts it. */
  boundaryMs = 0;
  lastMs: number | undefined;
  frameMs = 0;
  nextNumber: number;

  constructor(
    readonly name: string,
    readonly dir: string,
    kind: 'h264' | 'aac',
    startNumber: number,
  ) {
    this.ts = new TsWriter(kind);
    this.nextNumber = startNumber;
  }

  /** The previous segment's size: one block usually holds the next. */
  private blockBytes = MIN_BLOCK_BYTES;

  /** A segment starts at `ms`; a keyframe from `boundaryMs` on (the grid's next slot) ends it. */
  begin(ms: number, boundaryMs: number): void {
    this.boundaryMs = boundaryMs;
    this.open = new Segment(this.nextNumber++, ms, this.blockBytes);
    this.ts.tables().copy(this.open.place(2 * TS_PACKET_SIZE));
  }

  /** The open segment ends; its blocks are returned for writing. */
  close(): Segment {
    const segment = this.open!;
    this.open = undefined;
    this.blockBytes = Math.max(MIN_BLOCK_BYTES, Math.ceil(segment.bytes * 1.1));
    segment.seal();
    return segment;
  }

  /** A frame at `ms` lasting `frameMs`: where the open segment ends if nothing follows. */
  note(ms: number, frameMs: number): void {
    this.lastMs = ms;
    this.frameMs = frameMs;
  }
}

/**
 * A run that copies the publisher's H.264 and AAC into HLS without ffmpeg: FLV tags in, MPEG-TS
 * segments out, in the layout ffmpeg writes, each handed to the segment collector once written.
 * Segments are cut at the source's keyframes on the segment grid, as ffmpeg cuts a copied stream;
 * audio is cut where the video is (on the grid when there is none).
 *
 * Writes are whole FLV tags (or the FLV file header, skipped), as the session writes them to
 * ffmpeg. A copy this way costs a fraction of what a process per stream does (docs/benchmarks.md).
 */
export class Remuxer implements RunOutput {
  readonly exited: Promise<TranscoderExit>;
  private job: TranscodeJob | undefined;
  private queued: Buffer[] = [];
  private video: RenditionOutput | undefined;
  private audio: RenditionOutput | undefined;
  private avc: AvcConfig | undefined;
  private aac: AacConfig | undefined;
  private baseMs: number | undefined;
  /** Where the video was cut, for the audio to follow. */
  private readonly videoCuts: number[] = [];
  private pendingAudio: Buffer[] = [];
  private pendingAudioMs: number | undefined;
  private writing: Promise<void> = Promise.resolve();
  private writingBytes = 0;
  private inputEnded = false;
  private stopRequested = false;
  private failure: string | undefined;
  private resolveExit!: (exit: TranscoderExit) => void;
  private done = false;

  constructor(private readonly options: RemuxerOptions) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get backlogBytes(): number {
    return this.writingBytes;
  }

  start(job: TranscodeJob): void {
    if (this.job) throw new Error('a remuxer starts once');
    this.job = job;
    if (this.stopRequested) {
      this.exit();
      return;
    }
    const { plan, outputDir, startNumber } = job;
    const [video] = plan.video;
    const [audio] = plan.audio;
    if (video && job.input.hasVideo) this.video = new RenditionOutput(video.name, path.join(outputDir, video.name), 'h264', startNumber);
    if (audio && job.input.hasAudio) this.audio = new RenditionOutput(audio.name, path.join(outputDir, audio.name), 'aac', startNumber);
    // As ffmpeg does: a session folder removed under a run is there again for the next one.
    const dirs = [this.video, this.audio].flatMap((out) => (out ? [out.dir] : []));
    this.writing = Promise.all(dirs.map((dir) => fs.promises.mkdir(dir, { recursive: true })))
      .then(() => undefined)
      .catch((error: unknown) => this.fail(error));
    const queued = this.queued;
    this.queued = [];
    for (const chunk of queued) this.take(chunk);
    if (this.inputEnded) this.finishAll();
  }

  write(chunk: Buffer): void {
    if (this.inputEnded || this.failure) return;
    if (this.job) this.take(chunk);
    else this.queued.push(chunk);
  }

  /** End of input: the open segments are written and listed, then the run exits. */
  endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    if (this.job && !this.failure) this.finishAll();
  }

  /** Like endInput: what was received is written (a remux has nothing to abandon). */
  stop(): Promise<TranscoderExit> {
    this.stopRequested = true;
    if (!this.job) this.exit();
    else this.endInput();
    return this.exited;
  }

  private take(chunk: Buffer): void {
    if (chunk.length < FLV_TAG_HEADER + 1 || this.failure) return;
    const type = chunk[0]!;
    if (type !== FLV_VIDEO && type !== FLV_AUDIO) return; // the FLV header, script data
    const size = chunk.readUIntBE(1, 3);
    if (FLV_TAG_HEADER + size > chunk.length) return;
    const timestamp = chunk.readUIntBE(4, 3) + chunk[7]! * 0x1000000;
    const payload = chunk.subarray(FLV_TAG_HEADER, FLV_TAG_HEADER + size);
    try {
      if (type === FLV_VIDEO) this.takeVideo(payload, timestamp);
      else this.takeAudio(payload, timestamp);
    } catch (error) {
      this.fail(error);
    }
  }

  private takeVideo(payload: Buffer, ms: number): void {
    const out = this.video;
    if (!out || payload.length < 5 || (payload[0]! & 0x0f) !== CODEC_AVC) return;
    const frameType = payload[0]! >> 4;
    const packetType = payload[1]!;
    const data = payload.subarray(5);
    if (packetType === 0) {
      this.avc = parseAvcConfig(data) ?? this.avc;
      return;
    }
    if (packetType !== 1 || frameType === 5 || !this.avc) return;
    const keyframe = frameType === 1;
    if (!out.open && !keyframe) return; // a segment starts with a keyframe
    this.baseMs ??= ms;
    const compositionMs = payload.readIntBE(2, 3);
    if (keyframe && (!out.open || ms >= out.boundaryMs - GRID_TOLERANCE_MS)) {
      if (out.open) {
        this.cut(out, ms);
        if (this.audio) this.videoCuts.push(ms);
      }
      out.begin(ms, this.nextBoundary(ms));
    }
    const dts = this.ticks(ms);
    out.ts.pes(avccToAnnexB(data, this.avc, keyframe), { pts: dts + compositionMs * 90, dts, pcr: dts - PCR_LEAD_TICKS, randomAccess: keyframe }, out.open!.place);
    out.note(ms, out.lastMs !== undefined && ms > out.lastMs ? ms - out.lastMs : out.frameMs);
  }

  private takeAudio(payload: Buffer, ms: number): void {
    const out = this.audio;
    if (!out || payload.length < 2 || payload[0]! >> 4 !== SOUND_AAC) return;
    const data = payload.subarray(2);
    if (payload[1] === 0) {
      this.aac = parseAacConfig(data) ?? this.aac;
      return;
    }
    if (!this.aac) return;
    const frame = adtsFrame(data, this.aac);
    if (!frame) return;
    this.baseMs ??= ms;
    if (out.open && this.audioCutDue(out, ms)) {
      this.flushAudio(out);
      this.cut(out, ms);
    }
    if (!out.open) out.begin(ms, this.nextBoundary(ms));
    if (this.pendingAudioMs !== undefined && ms - this.pendingAudioMs >= AUDIO_PES_MS) this.flushAudio(out);
    this.pendingAudioMs ??= ms;
    this.pendingAudio.push(...frame);
    out.note(ms, (AAC_FRAME_SAMPLES * 1000) / this.aac.sampleRate);
  }

  /** With video, audio is cut at the first frame at or after each video cut; alone, on the grid. */
  private audioCutDue(out: RenditionOutput, ms: number): boolean {
    if (!this.video) return ms >= out.boundaryMs - GRID_TOLERANCE_MS;
    let due = false;
    while (this.videoCuts.length > 0 && ms >= this.videoCuts[0]!) {
      this.videoCuts.shift();
      due = true;
    }
    return due;
  }

  private flushAudio(out: RenditionOutput): void {
    if (this.pendingAudioMs === undefined) return;
    const pts = this.ticks(this.pendingAudioMs);
    out.ts.pes(this.pendingAudio, { pts, pcr: pts - PCR_LEAD_TICKS, randomAccess: true }, out.open!.place);
    this.pendingAudio = [];
    this.pendingAudioMs = undefined;
  }

  /** The open segment ends where `endMs` begins; it is written, then listed. */
  private cut(out: RenditionOutput, endMs: number): void {
    const segment = out.close();
    const duration = Math.max(0, endMs - segment.startMs) / 1000;
    const file = path.join(out.dir, `seg_${segment.number}.ts`);
    this.writingBytes += segment.bytes;
    this.writing = this.writing
      .then(async () => {
        if (this.failure) return;
        await writeChunks(file, [...segment.blocks]);
        await this.options.onSegment(out.name, { sequence: segment.number, uri: path.basename(file), duration });
      })
      .catch((error: unknown) => this.fail(error))
      .finally(() => (this.writingBytes -= segment.bytes));
  }

  private finishAll(): void {
    for (const out of [this.video, this.audio]) {
      if (!out?.open) continue;
      if (out === this.audio) this.flushAudio(out);
      this.cut(out, (out.lastMs ?? out.open.startMs) + out.frameMs);
    }
    void this.writing.then(() => this.exit());
  }

  /** The end of the grid slot `ms` is in, counted from the run's first media. */
  private nextBoundary(ms: number): number {
    const segmentMs = this.job!.segmentSeconds * 1000;
    const base = this.baseMs ?? ms;
    return base + (Math.floor((ms - base + GRID_TOLERANCE_MS) / segmentMs) + 1) * segmentMs;
  }

  private ticks(ms: number): number {
    return (ms - this.baseMs!) * 90 + START_TICKS;
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error instanceof Error ? error.message : String(error);
    this.options.logger.error({ err: error }, 'the remuxer failed');
    this.exit();
  }

  private exit(): void {
    if (this.done) return;
    this.done = true;
    this.queued = [];
    this.resolveExit({
      code: this.failure ? 1 : 0,
      signal: null,
      expected: !this.failure && (this.inputEnded || this.stopRequested),
      stderrTail: this.failure ? [this.failure] : [],
    });
  }
}

/** A segment's buffers in one file, gathered by the kernel (writev) rather than copied into one. */
async function writeChunks(file: string, chunks: Buffer[]): Promise<void> {
  const handle = await fs.promises.open(file, 'w');
  try {
    let pending = chunks;
    while (pending.length > 0) {
      let { bytesWritten } = await handle.writev(pending);
      while (pending.length > 0 && bytesWritten >= pending[0]!.length) bytesWritten -= pending.shift()!.length;
      if (pending.length > 0 && bytesWritten > 0) pending[0] = pending[0]!.subarray(bytesWritten);
    }
  } finally {
    await handle.close();
  }
}
