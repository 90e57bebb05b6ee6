import type { AudioConfig, MediaTag, SourceMetadata, VideoConfig } from '../ingest/media';
import type { SourceInfo } from '../transcode/ladder';

export interface ProbeResult {
  source: SourceInfo;
  /** The last script data and sequence headers seen (only those of tracks in `source`). */
  metadata?: MediaTag;
  videoConfig?: MediaTag;
  audioConfig?: MediaTag;
  /** Media tags held so far, from the first keyframe on. */
  media: MediaTag[];
  /** The timestamp of the first of them. */
  firstTimestamp?: number;
}

export type ProbeOutcome = { ready: false } | { ready: true; result: ProbeResult } | { ready: true; error: string; message: string };

/** After the first media, how long to wait for a track that the metadata did not announce. */
const TRACK_WAIT_MS = 1000;
/** How long to wait for an announced video track before going on with audio only. */
const VIDEO_GIVE_UP_MS = 5000;
/** Media held before the transcoder starts; a publisher that never sends a keyframe must not grow memory. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * Watches the start of a publish until the origin knows enough to plan the ladder: the video size
 * (from the H.264 sequence header), whether there is audio, and a keyframe to start from.
 */
export class SourceProbe {
  private metadata: SourceMetadata = {};
  private metadataTag: MediaTag | undefined;
  private videoConfig: VideoConfig | undefined;
  private videoConfigTag: MediaTag | undefined;
  private audioConfig: AudioConfig | undefined;
  private audioConfigTag: MediaTag | undefined;
  private audioCodecSeen: MediaTag & { kind: 'audio' } | undefined;
  private videoSeen = false;
  private keyframeTimestamp: number | undefined;
  private media: MediaTag[] = [];
  private bufferedBytes = 0;
  private firstMediaAt: number | undefined;

  push(tag: MediaTag, now: number): void {
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
          this.audioConfig = tag.config;
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
    const deadlines = [this.firstMediaAt + TRACK_WAIT_MS, this.firstMediaAt + VIDEO_GIVE_UP_MS];
    return deadlines.find((at) => at > now);
  }

  outcome(now: number): ProbeOutcome {
    if (this.videoConfig && this.videoConfig.codec !== 'h264') {
      return { ready: true, error: 'unsupported_codec', message: `video codec ${this.videoConfig.codec} is not supported; send H.264` };
    }
    const waited = this.firstMediaAt !== undefined && now - this.firstMediaAt >= TRACK_WAIT_MS;
    const overflow = this.bufferedBytes > MAX_BUFFERED_BYTES;
    const hasAudio = this.audioCodecSeen !== undefined;
    const videoExpected = this.metadata.hasVideo ?? this.videoSeen;
    const videoReady = this.keyframeTimestamp !== undefined && this.videoConfig !== undefined;
    const audioSettled = hasAudio || this.metadata.hasAudio === false || waited;
    const gaveUpOnVideo = hasAudio && this.firstMediaAt !== undefined && now - this.firstMediaAt >= VIDEO_GIVE_UP_MS;
    const videoSettled = videoReady || (!videoExpected && waited) || (this.metadata.hasVideo === false && hasAudio) || gaveUpOnVideo;

    if (overflow && !videoReady) return { ready: true, error: 'no_keyframe', message: 'no H.264 keyframe with a sequence header arrived' };
    if (!(videoSettled && audioSettled) && !overflow) return { ready: false };
    if (!videoReady && !hasAudio) return { ready: false };
    return this.result(videoReady, hasAudio);
  }

  private result(withVideo: boolean, withAudio: boolean): ProbeOutcome {
    const source: SourceInfo = {};
    if (withVideo && this.videoConfig) {
      const width = this.videoConfig.width ?? this.metadata.width;
      const height = this.videoConfig.height ?? this.metadata.height;
      if (!width || !height) return { ready: true, error: 'unknown_video_size', message: 'the video size could not be read from the stream' };
      source.video = {
        codec: this.videoConfig.codec,
        width,
        height,
        ...(this.metadata.frameRate !== undefined && { frameRate: this.metadata.frameRate }),
        ...(this.videoConfig.codecString !== undefined && { codecString: this.videoConfig.codecString }),
        ...(this.metadata.videoBitrateKbps !== undefined && { bitrateKbps: this.metadata.videoBitrateKbps }),
      };
    }
    if (withAudio && this.audioCodecSeen) {
      source.audio = {
        ...(this.audioConfig ?? { codec: this.audioCodecSeen.codec }),
        ...(this.metadata.audioBitrateKbps !== undefined && { bitrateKbps: this.metadata.audioBitrateKbps }),
      };
    }
    const keyframeAt = this.keyframeTimestamp;
    const kept = this.media.filter((tag) => {
      if (tag.kind === 'video' && !withVideo) return false;
      if (tag.kind === 'audio' && !withAudio) return false;
      // Audio from before the first keyframe would start the output with sound over no picture.
      return !(tag.kind === 'audio' && withVideo && keyframeAt !== undefined && tag.timestamp < keyframeAt);
    });
    this.media = [];
    const result: ProbeResult = { source, media: kept };
    if (kept[0]) result.firstTimestamp = kept[0].timestamp;
    if (this.metadataTag) result.metadata = this.metadataTag;
    if (withVideo && this.videoConfigTag) result.videoConfig = this.videoConfigTag;
    if (withAudio && this.audioConfigTag) result.audioConfig = this.audioConfigTag;
    return { ready: true, result };
  }
}
