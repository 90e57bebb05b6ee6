import type { MediaTag, SourceMetadata, VideoConfig } from '../ingest/media';
import type { SourceInfo } from '../transcode/ladder';

export interface ProbeResult {
  source: SourceInfo;
  /** The last script data and sequence headers seen (only those of tracks in `source`). */
  metadata?: MediaTag;
  videoConfig?: MediaTag;
  audioConfig?: MediaTag;
  /** Media tags held so far, from the first keyframe on. */
  media: MediaTag[];
}

export type ProbeOutcome = { ready: false } | { ready: true; result: ProbeResult } | { ready: true; error: string; message: string };

/** H.264, and HEVC and AV1 over Enhanced RTMP; VP9 and anything else are refused. */
const SUPPORTED_VIDEO = new Set<string>(['h264', 'hevc', 'av1']);

/** After the first media, how long to wait for a track that has not shown up (and was not announced). */
const TRACK_WAIT_MS = 1000;
/** How long to wait for a track the metadata announced, or for a keyframe of video already seen, before going on without it. */
const TRACK_GIVE_UP_MS = 5000;
/** Media held before the transcoder starts; a publisher that never sends a keyframe must not grow memory. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * The source as planning sees it, from a sequence header (or a frame of a codec without one) of each
 * track and the publisher's metadata. Video without a known size is left out.
 */
export function describeSource(from: { videoConfig?: VideoConfig | undefined; audio?: MediaTag | undefined; metadata?: SourceMetadata }): SourceInfo {
  const metadata = from.metadata ?? {};
  const source: SourceInfo = {};
  const { videoConfig } = from;
  const width = videoConfig?.width ?? metadata.width;
  const height = videoConfig?.height ?? metadata.height;
  if (videoConfig && width && height) {
    source.video = {
      codec: videoConfig.codec,
      width,
      height,
      ...(metadata.frameRate !== undefined && { frameRate: metadata.frameRate }),
      ...(videoConfig.codecString !== undefined && { codecString: videoConfig.codecString }),
      ...(metadata.videoBitrateKbps !== undefined && { bitrateKbps: metadata.videoBitrateKbps }),
    };
  }
  if (from.audio?.kind === 'audio') {
    source.audio = {
      ...(from.audio.config ?? { codec: from.audio.codec }),
      ...(metadata.audioBitrateKbps !== undefined && { bitrateKbps: metadata.audioBitrateKbps }),
    };
  }
  return source;
}

/**
 * Watches the start of a publish until the origin knows enough to plan the ladder: the video size
 * (from the sequence header), whether there is audio, and a keyframe to start from.
 *
 * The tracks are decided by the media that arrives. Metadata can make the probe wait longer for a
 * track it announces, never decide that a track is absent: some encoders send their first
 * onMetaData before every track is set up (GStreamer's flvmux, without `videocodecid`).
 */
export class SourceProbe {
  private metadata: SourceMetadata = {};
  private metadataTag: MediaTag | undefined;
  private videoConfig: VideoConfig | undefined;
  private videoConfigTag: MediaTag | undefined;
  private audioConfigTag: MediaTag | undefined;
  private audioCodecSeen: (MediaTag & { kind: 'audio' }) | undefined;
  private videoSeen = false;
  private keyframeTimestamp: number | undefined;
  private media: MediaTag[] = [];
  private bufferedBytes = 0;
  private firstMediaAt: number | undefined;
  /** The media timestamps seen so far: a publisher sending faster than real time shows its tracks sooner. */
  private firstMediaTimestamp: number | undefined;
  private lastMediaTimestamp: number | undefined;

  push(tag: MediaTag, now: number): void {
    if (tag.kind !== 'metadata' && !tag.config) {
      this.firstMediaTimestamp ??= tag.timestamp;
      this.lastMediaTimestamp = Math.max(this.lastMediaTimestamp ?? tag.timestamp, tag.timestamp);
    }
    switch (tag.kind) {
      case 'metadata':
        this.metadata = tag.metadata;
        this.metadataTag = tag;
        return;
      case 'video':
        this.firstMediaAt ??= now;
        this.videoSeen = true;
        if (tag.config) {
          this.videoConfig = tag.config;
          this.videoConfigTag = tag;
          return;
        }
        if (tag.keyframe && this.keyframeTimestamp === undefined) this.keyframeTimestamp = tag.timestamp;
        if (this.keyframeTimestamp === undefined) return;
        break;
      case 'audio':
        this.firstMediaAt ??= now;
        this.audioCodecSeen = tag;
        if (tag.config) {
          this.audioConfigTag = tag;
          return;
        }
        break;
    }
    this.media.push(tag);
    this.bufferedBytes += tag.bytes.length;
  }

  /** When to look again if not ready yet (time-based rules). */
  nextCheckAt(now: number): number | undefined {
    if (this.firstMediaAt === undefined) return undefined;
    const deadlines = [this.firstMediaAt + TRACK_WAIT_MS, this.firstMediaAt + TRACK_GIVE_UP_MS];
    return deadlines.find((at) => at > now);
  }

  outcome(now: number): ProbeOutcome {
    if (this.videoConfig && !SUPPORTED_VIDEO.has(this.videoConfig.codec)) {
      return { ready: true, error: 'unsupported_codec', message: `video codec ${this.videoConfig.codec} is not supported; send H.264, HEVC or AV1` };
    }
    const elapsed = this.elapsedMs(now);
    const waited = elapsed >= TRACK_WAIT_MS;
    const gaveUp = elapsed >= TRACK_GIVE_UP_MS;
    const overflow = this.bufferedBytes > MAX_BUFFERED_BYTES;
    const hasAudio = this.audioCodecSeen !== undefined;
    const videoReady = this.keyframeTimestamp !== undefined && this.videoConfig !== undefined;
    const audioSettled = hasAudio || gaveUp || (waited && this.metadata.hasAudio !== true);
    // Video that shows up is waited for until it can start (a keyframe), up to the give-up time if there is audio to go on with.
    const videoSettled = videoReady || (hasAudio && gaveUp) || (!this.videoSeen && waited && this.metadata.hasVideo !== true);

    if (overflow && !videoReady) return { ready: true, error: 'no_keyframe', message: 'no keyframe with a sequence header arrived' };
    if (!(videoSettled && audioSettled) && !overflow) return { ready: false };
    if (!videoReady && !hasAudio) return { ready: false };
    return this.result(videoReady, hasAudio);
  }

  /** Time since the first media: on the wall clock, or in media time if the publisher sends faster. */
  private elapsedMs(now: number): number {
    if (this.firstMediaAt === undefined) return 0;
    return Math.max(now - this.firstMediaAt, (this.lastMediaTimestamp ?? 0) - (this.firstMediaTimestamp ?? 0));
  }

  private result(withVideo: boolean, withAudio: boolean): ProbeOutcome {
    const source = describeSource({
      ...(withVideo && this.videoConfig && { videoConfig: this.videoConfig }),
      ...(withAudio && this.audioCodecSeen && { audio: this.audioConfigTag ?? this.audioCodecSeen }),
      metadata: this.metadata,
    });
    if (withVideo && !source.video) return { ready: true, error: 'unknown_video_size', message: 'the video size could not be read from the stream' };
    const keyframeAt = this.keyframeTimestamp;
    const kept = this.media.filter((tag) => {
      if (tag.kind === 'video' && !withVideo) return false;
      if (tag.kind === 'audio' && !withAudio) return false;
      // Audio from before the first keyframe would start the output with sound over no picture.
      return !(tag.kind === 'audio' && withVideo && keyframeAt !== undefined && tag.timestamp < keyframeAt);
    });
    this.media = [];
    const result: ProbeResult = { source, media: kept };
    if (this.metadataTag) result.metadata = this.metadataTag;
    if (withVideo && this.videoConfigTag) result.videoConfig = this.videoConfigTag;
    if (withAudio && this.audioConfigTag) result.audioConfig = this.audioConfigTag;
    return { ready: true, result };
  }
}
