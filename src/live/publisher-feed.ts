import { KeyframeCadence } from '../ingest/keyframe-cadence';
import type { MediaTag } from '../ingest/media';
import type { Publisher } from '../ingest/publisher';
import type { SourceInfo } from '../transcode/ladder';
import { describeSource, SourceProbe, type ProbeResult } from './source-probe';

/** A track the publisher began or stopped sending, compared with what its run was started for. */
export interface TrackChange {
  track: 'video' | 'audio';
  change: 'appeared' | 'missing';
}

/**
 * What the session knows about one connected publisher: the probe until the source is known,
 * then the latest script data and sequence headers (a restarted run needs them again), and
 * what the source's keyframes look like.
 */
export class PublisherFeed {
  probe: SourceProbe | undefined = new SourceProbe();
  source: SourceInfo | undefined;
  /** A run started without media (a restart, cheaper encoding, a track change) gets nothing until the next keyframe. */
  waitForKeyframe = false;
  private readonly cadence = new KeyframeCadence();
  /** Wall-clock ms minus media timestamp, from the first media tag's arrival. */
  private clockOffset: number | undefined;
  private readonly headers: { metadata?: MediaTag; video?: MediaTag; audio?: MediaTag } = {};
  /** Timestamp of the newest media of each kind since the run's source was set. */
  private newest: { video?: number; audio?: number } = {};

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
    // The media the probe held: its keyframes count towards the interval.
    for (const tag of result.media) if (tag.kind === 'metadata' || !tag.config) this.cadence.observe(tag);
  }

  /**
   * Compares a media tag with the tracks the run was started for: a track the run lacks has
   * appeared once it can start (its sequence header is in; for video, at a keyframe); a track the
   * run has is missing once the other one has gone on for `missingMs` of media time without it.
   */
  trackChange(tag: MediaTag, missingMs: number): TrackChange | undefined {
    if (tag.kind === 'metadata' || tag.config || !this.source) return undefined;
    const { kind } = tag;
    const other = kind === 'video' ? 'audio' : 'video';
    this.newest[kind] = tag.timestamp;
    this.newest[other] ??= tag.timestamp;
    if (!this.source[kind]) {
      const canStart = kind === 'video' ? tag.keyframe && this.headers.video !== undefined : this.headers.audio !== undefined || tag.codec !== 'aac';
      return canStart ? { track: kind, change: 'appeared' } : undefined;
    }
    if (this.source[other] && tag.timestamp - this.newest[other] >= missingMs) return { track: other, change: 'missing' };
    return undefined;
  }

  /** The run is started again for the publisher's tracks as they are now. */
  changeTracks(change: TrackChange, tag: MediaTag): SourceInfo {
    const source = { ...this.source };
    if (change.change === 'missing') {
      delete source[change.track];
    } else {
      const described = describeSource({
        ...(this.headers.video?.kind === 'video' && { videoConfig: this.headers.video.config }),
        ...(this.headers.audio?.kind === 'audio' ? { audio: this.headers.audio } : tag.kind === 'audio' && { audio: tag }),
        ...(this.headers.metadata?.kind === 'metadata' && { metadata: this.headers.metadata.metadata }),
      });
      if (change.track === 'video' && described.video) source.video = described.video;
      if (change.track === 'audio' && described.audio) source.audio = described.audio;
    }
    this.source = source;
    this.newest = {};
    return source;
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

  /** The keyframe interval the publisher keeps to (KeyframeCadence.sustainedIntervalMs). */
  get sustainedKeyframeIntervalMs(): number | undefined {
    return this.cadence.sustainedIntervalMs;
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
   * Whether a tag may go to the transcoder now. A run started without media waits for a keyframe
   * (audio too, so that sound does not run ahead of the picture).
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
