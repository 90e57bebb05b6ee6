import { flvHeader, type MediaTag } from '../ingest/media';
import type { Logger } from '../observability/logger';
import { Transcoder } from '../transcode/transcoder';
import type { DestinationStatus } from './destination-repository';

/** Between the last tag before a publisher left and the first of the one that came back. */
const REBASE_GAP_MS = 40;

export interface PushSettings {
  ffmpegPath: string;
  /** Without a sign of output this long after starting (a destination that never answers), the attempt is given up. */
  connectTimeoutMs: number;
  /** Input ffmpeg has not taken past this (a destination that stopped reading): the attempt is given up. */
  maxBacklogBytes: number;
  /** Waits between attempts, in order; the last repeats. */
  backoffMs: readonly number[];
  /** Attempts in a row that never went live before the destination is marked failed until the next session. */
  maxFailures: number;
  stopGraceMs: number;
}

export interface PushTarget {
  id: string;
  url: string;
  streamKey: string;
}

export interface PushEvents {
  status(status: DestinationStatus, lastError: string | null): void;
  /** An attempt failed (`error` has no key in it). */
  failed(error: string): void;
}

/** The FLV tags a push starts from: script data and sequence headers, then media from a keyframe. */
export interface PushStart {
  headers: MediaTag[];
  hasAudio: boolean;
  hasVideo: boolean;
}

/**
 * One destination of a live stream: an ffmpeg that copies the publisher's FLV to it
 * (`-c copy -f flv`), started again with backoff when it fails, stopped when the session ends. Its
 * status is idle → connecting → live, or retrying with the last error, or failed. The tags come
 * from the session as they arrive; a push that cannot take them (connecting, or a destination not
 * reading) drops them rather than hold the publisher up, and starts again at a keyframe.
 */
export class DestinationPush {
  private transcoder: Transcoder | undefined;
  private start: PushStart | undefined;
  private waitingForKeyframe = true;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private current: DestinationStatus = 'idle';
  private attempt = 0;
  private lastError: string | null = null;
  /** Added to the publisher's timestamps: a publisher that comes back starts again from zero, and the destination must see time go on. */
  private offset = 0;
  private lastTimestamp = 0;
  private rebase = false;

  constructor(
    readonly target: PushTarget,
    private readonly settings: PushSettings,
    private readonly events: PushEvents,
    private readonly logger: Logger,
  ) {}

  get status(): DestinationStatus {
    return this.current;
  }

  /** The publisher's headers: the first start, or a publisher that came back (same process, new headers). */
  begin(start: PushStart): void {
    const first = this.start === undefined;
    this.start = start;
    if (this.stopped) return;
    if (first) return this.launch();
    this.waitingForKeyframe = true;
    this.rebase = true;
    for (const tag of start.headers) this.transcoder?.write(this.stamped(tag, this.lastTimestamp));
  }

  /** This source cannot be sent (its codec): failed, with why, until the next session. */
  refuse(reason: string): void {
    if (this.stopped || this.current === 'failed') return;
    this.lastError = reason;
    this.events.failed(reason);
    this.setStatus('failed', reason);
  }

  write(tag: MediaTag): void {
    const transcoder = this.transcoder;
    if (!transcoder || this.stopped) return;
    if (tag.kind === 'metadata' || ('config' in tag && tag.config)) {
      transcoder.write(this.stamped(tag, Math.max(0, tag.timestamp + this.offset)));
      return;
    }
    if (this.waitingForKeyframe) {
      if (tag.kind !== 'video' ? this.start?.hasVideo !== false : !tag.keyframe) return;
      this.waitingForKeyframe = false;
      if (this.rebase) {
        this.rebase = false;
        this.offset = this.lastTimestamp + REBASE_GAP_MS - tag.timestamp;
      }
    }
    if (transcoder.backlogBytes > this.settings.maxBacklogBytes) {
      this.giveUp('the destination is not taking the stream fast enough');
      return;
    }
    const timestamp = Math.max(0, tag.timestamp + this.offset);
    this.lastTimestamp = Math.max(this.lastTimestamp, timestamp);
    transcoder.write(this.stamped(tag, timestamp));
  }

  /** The tag with another timestamp (a copy), or as it is. */
  private stamped(tag: MediaTag, timestamp: number): Buffer {
    if (timestamp === tag.timestamp) return tag.bytes;
    const bytes = Buffer.from(tag.bytes);
    bytes.writeUIntBE(timestamp & 0xffffff, 4, 3);
    bytes[7] = (timestamp >>> 24) & 0xff;
    return bytes;
  }

  /** The session ended: the destination is told the stream stopped (ffmpeg finishes cleanly). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.connectTimer);
    const transcoder = this.transcoder;
    this.transcoder = undefined;
    this.setStatus('idle', null);
    if (transcoder) await transcoder.stop(this.settings.stopGraceMs);
  }

  private launch(): void {
    if (this.stopped || !this.start) return;
    const attempt = ++this.attempt;
    const transcoder = new Transcoder({
      ffmpegPath: this.settings.ffmpegPath,
      logger: this.logger,
      stopGraceMs: this.settings.stopGraceMs,
      secrets: [this.target.streamKey],
      onProgress: (progress) => {
        // ffmpeg reports progress once it writes to the destination: it is connected and taking the stream.
        if (this.transcoder === transcoder && progress.mediaSeconds !== undefined && progress.mediaSeconds > 0 && this.current !== 'live') {
          clearTimeout(this.connectTimer);
          this.failures = 0;
          this.setStatus('live', null);
        }
      },
    });
    this.transcoder = transcoder;
    this.waitingForKeyframe = true;
    this.setStatus('connecting', this.current === 'retrying' ? this.lastError : null);
    transcoder.write(flvHeader(this.start.hasAudio, this.start.hasVideo));
    for (const tag of this.start.headers) transcoder.write(tag.bytes);
    transcoder.start({
      inputs: [{ options: ['-hide_banner', '-nostdin', '-analyzeduration', '100000', '-f', 'flv'], source: 'pipe:0' }],
      outputs: [
        {
          options: ['-map', '0', '-c', 'copy', '-f', 'flv', '-rw_timeout', String(this.settings.connectTimeoutMs * 1000), '-stats_period', '1'],
          target: `${this.target.url.replace(/\/+$/, '')}/${this.target.streamKey}`,
        },
      ],
    });
    this.connectTimer = setTimeout(() => {
      if (this.transcoder === transcoder && this.current !== 'live') this.giveUp('no answer from the destination');
    }, this.settings.connectTimeoutMs);
    void transcoder.exited.then((exit) => {
      if (this.transcoder !== transcoder || this.stopped || attempt !== this.attempt) return;
      const said = exit.spawnError ?? exit.stderrTail.filter((line) => /error|refused|failed|denied|closed|timed out|invalid|not found|unreachable|reset/i.test(line)).at(-1);
      this.retry(said ? said.trim().slice(0, 300) : `ffmpeg exited (${exit.code ?? exit.signal})`);
    });
  }

  /** The attempt is abandoned (timed out, or not keeping up): ffmpeg is stopped and another attempt follows. */
  private giveUp(reason: string): void {
    const transcoder = this.transcoder;
    this.transcoder = undefined;
    void transcoder?.stop(0);
    this.retry(reason);
  }

  private retry(error: string): void {
    clearTimeout(this.connectTimer);
    this.transcoder = undefined;
    this.failures++;
    this.lastError = error;
    this.events.failed(error);
    if (this.failures >= this.settings.maxFailures) {
      this.logger.warn({ destination: this.target.id, error }, `restream destination failed ${this.failures} times in a row; giving up until the next session`);
      this.setStatus('failed', error);
      return;
    }
    const backoff = this.settings.backoffMs;
    const delay = backoff[Math.min(this.failures - 1, backoff.length - 1)] ?? 1000;
    this.logger.info({ destination: this.target.id, error, retryInMs: delay }, 'restream destination failed; retrying');
    this.setStatus('retrying', error);
    this.retryTimer = setTimeout(() => this.launch(), delay);
  }

  private setStatus(status: DestinationStatus, lastError: string | null): void {
    if (status === this.current && lastError === this.lastError) return;
    this.current = status;
    if (lastError !== null) this.lastError = lastError;
    this.events.status(status, lastError);
  }
}
