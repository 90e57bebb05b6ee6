import { KeyframeCadence } from '../ingest/keyframe-cadence';
import type { MediaTag } from '../ingest/media';
import type { Publisher } from '../ingest/publisher';
import type { SourceInfo } from '../transcode/ladder';
import { SourceProbe, type ProbeResult } from './source-probe';

/**
 * What the session knows about one connected publisher: the probe until the source is known,
 * then the latest script data and sequence headers (a restarted run needs them again), and
 * what the source's keyframes look like.
 */
export class PublisherFeed {
  probe: SourceProbe | undefined = new SourceProbe();
  source: SourceInfo | undefined;
  /** After a transcoder restart, media is held back until the next keyframe. */
  waitForKeyframe = false;
  private readonly cadence = new KeyframeCadence();
  /** Wall-clock ms minus media timestamp, from the first media tag's arrival. */
  private clockOffset: number | undefined;
  private readonly headers: { metadata?: MediaTag; video?: MediaTag; audio?: MediaTag } = {};

  constructor(readonly publisher: Publisher) {}

  /** Notes when media began to arrive, to place the publisher's timestamps on the wall clock. */
  noteArrival(tag: MediaTag, now: number): void {
    if (tag.kind !== 'metadata') this.clockOffset ??= now - tag.timestamp;
  }

  /** When a frame with this timestamp was captured, as far as the origin can tell (never later than `now`). */
  capturedAt(timestamp: number, now: number): number | undefined {
    return this.clockOffset === undefined ? undefined : Math.min(now, this.clockOffset + timestamp);
  }

  /** The probe's answer; from now on tags go to the transcoder. */
  known(result: ProbeResult): void {
    this.probe = undefined;
    this.source = result.source;
    [this.headers.metadata, this.headers.video, this.headers.audio] = [result.metadata, result.videoConfig, result.audioConfig];
  }

  /** Keeps headers current and measures the keyframe interval; returns whether the tag is a header. */
  observe(tag: MediaTag): boolean {
    if (tag.kind === 'metadata') {
      this.headers.metadata = tag;
      return true;
    }
    if (tag.kind === 'video' && tag.config) {
      this.headers.video = tag;
      return true;
    }
    if (tag.kind === 'audio' && tag.config) {
      this.headers.audio = tag;
      return true;
    }
    this.cadence.observe(tag);
    return false;
  }

  get keyframeIntervalMs(): number | undefined {
    return this.cadence.intervalMs;
  }

  /**
   * Whether a tag is within `windowMs` of media time from the latest keyframe (the keyframe
   * included): what ffmpeg needs before it can cut a segment there.
   */
  nearKeyframe(tag: MediaTag, windowMs: number): boolean {
    return this.cadence.nearKeyframe(tag, windowMs);
  }

  /** What a new run needs before media: script data, then sequence headers. */
  headerTags(): MediaTag[] {
    const { metadata, video, audio } = this.headers;
    return [metadata, this.source?.video ? video : undefined, this.source?.audio ? audio : undefined].filter((tag): tag is MediaTag => tag !== undefined);
  }

  /**
   * Whether a tag may go to the transcoder now. After a restart, media waits for a keyframe (audio
   * too, so that sound does not run ahead of the picture).
   */
  admits(tag: MediaTag, isHeader: boolean): boolean {
    if (!this.waitForKeyframe || isHeader) return true;
    if (tag.kind === 'video' && tag.keyframe) {
      this.waitForKeyframe = false;
      return true;
    }
    return false;
  }
}
