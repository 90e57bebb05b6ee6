// Renditions that copy the publisher's video (H.264, HEVC, AV1) and AAC: the samples ingest has
// already parsed go to the packager as they are, in this process. No ffmpeg, no decode, no second parse.
import { av1Sample } from '../ingest/codec-records';
import type { MediaTag } from '../ingest/media';
import type { MediaSink } from '../packaging/packager';
import { AAC_FRAME_SAMPLES, FALLBACK_CODEC_STRINGS, isPackagedVideo, VIDEO_TIMESCALE, ticks, type AudioTrack, type VideoTrack } from '../packaging/track';
import type { RunOutput, TranscoderExit } from './transcoder';

/**
 * Silence for a publisher that came back without audio: AAC-LC, 48 kHz, stereo. A raw frame with
 * no spectral data decodes to zeros at any position, so the same nine bytes serve every frame
 * (test/integration/source-tracks.test.ts decodes them with ffmpeg).
 */
const SILENCE_RATE = 48_000;
const SILENCE_CONFIG = Buffer.from([0x11, 0x90]);
const SILENT_FRAME = Buffer.from([0x21, 0x00, 0x49, 0x90, 0x02, 0x19, 0x00, 0x23, 0x80]);

export interface CopyRunOptions {
  /** The renditions this run copies into: the source video, the source audio. */
  video?: string;
  audio?: string;
  /** Audio renditions that get silence, timed by the video, because this publisher sends no audio. */
  silence?: string[];
  /** The source's size, for a sequence header whose own could not be read. */
  size?: { width: number; height: number };
}

/** Tags may come before start() (while the previous run finishes): they wait for it. */
export class CopyRun implements RunOutput {
  readonly exited: Promise<TranscoderExit>;
  readonly backlogBytes = 0;
  private resolveExit!: (exit: TranscoderExit) => void;
  private sink: MediaSink | undefined;
  private queued: MediaTag[] = [];
  private inputEnded = false;
  private done = false;
  private audioRate: number | undefined;
  /** Decode time of the next AAC frame if it follows the last without a gap. */
  private nextAudioDts: number | undefined;
  /** Decode time (48 kHz) of the next silent frame, once the video has begun. */
  private nextSilenceDts: number | undefined;

  constructor(private readonly options: CopyRunOptions) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  start(sink: MediaSink): void {
    this.sink = sink;
    for (const rendition of this.options.silence ?? []) {
      sink.track(rendition, { kind: 'audio', codec: 'aac', config: SILENCE_CONFIG, codecString: 'mp4a.40.2', sampleRate: SILENCE_RATE, channels: 2, timescale: SILENCE_RATE });
    }
    const queued = this.queued;
    this.queued = [];
    for (const tag of queued) this.copy(sink, tag);
    if (this.inputEnded) this.finish();
  }

  write(tag: MediaTag): void {
    if (this.done || this.inputEnded) return;
    if (this.sink) this.copy(this.sink, tag);
    else this.queued.push(tag);
  }

  private copy(sink: MediaSink, tag: MediaTag): void {
    const { video, audio } = this.options;
    if (tag.kind === 'video' && video && isPackagedVideo(tag.codec)) {
      if (tag.config) {
        const width = tag.config.width ?? this.options.size?.width;
        const height = tag.config.height ?? this.options.size?.height;
        if (!width || !height || tag.data.length < 4) return;
        const codecString = tag.config.codecString ?? FALLBACK_CODEC_STRINGS[tag.codec];
        const track: VideoTrack = { kind: 'video', codec: tag.codec, config: Buffer.from(tag.data), codecString, width, height, timescale: VIDEO_TIMESCALE };
        sink.track(video, track);
        return;
      }
      const data = tag.codec === 'av1' ? av1Sample(tag.data) : tag.data;
      if (!data || data.length === 0) return;
      const dts = ticks(tag.timestamp, VIDEO_TIMESCALE);
      sink.sample(video, { dts, compositionOffset: ticks(tag.compositionTime, VIDEO_TIMESCALE), keyframe: tag.keyframe, data });
      this.silenceUpTo(sink, tag.timestamp);
      return;
    }
    if (tag.kind === 'audio' && audio && tag.codec === 'aac') {
      if (tag.config) {
        const sampleRate = tag.config.sampleRate;
        if (!sampleRate || tag.data.length < 2) return;
        this.audioRate = sampleRate;
        this.nextAudioDts = undefined;
        const track: AudioTrack = {
          kind: 'audio',
          codec: 'aac',
          config: Buffer.from(tag.data),
          codecString: tag.config.codecString ?? 'mp4a.40.2',
          sampleRate,
          channels: tag.config.channels ?? 2,
          timescale: sampleRate,
        };
        sink.track(audio, track);
        return;
      }
      if (!this.audioRate || tag.data.length === 0) return;
      sink.sample(audio, { dts: this.audioDts(tag.timestamp, this.audioRate), compositionOffset: 0, keyframe: true, data: tag.data });
    }
  }

  /** Silent frames from where the last one ended up to the video's time. */
  private silenceUpTo(sink: MediaSink, timestamp: number): void {
    const renditions = this.options.silence;
    if (!renditions?.length) return;
    const until = ticks(timestamp, SILENCE_RATE);
    let dts = this.nextSilenceDts ?? until;
    for (; dts <= until; dts += AAC_FRAME_SAMPLES) {
      for (const rendition of renditions) sink.sample(rendition, { dts, compositionOffset: 0, keyframe: true, data: SILENT_FRAME });
    }
    this.nextSilenceDts = dts;
  }

  /**
   * FLV gives audio whole milliseconds; AAC frames are exactly 1024 samples. Frames that follow
   * one another are placed end to end, and the clock goes back to the timestamp only at a gap or
   * a jump, so that the audio timeline has no drift and no holes of rounding.
   */
  private audioDts(timestamp: number, rate: number): number {
    const measured = ticks(timestamp, rate);
    const expected = this.nextAudioDts;
    const dts = expected !== undefined && Math.abs(measured - expected) < AAC_FRAME_SAMPLES ? expected : measured;
    this.nextAudioDts = dts + AAC_FRAME_SAMPLES;
    return dts;
  }

  endInput(): void {
    this.inputEnded = true;
    if (this.sink) this.finish();
  }

  /** Like endInput: a copy has nothing to abandon. */
  stop(): Promise<TranscoderExit> {
    this.inputEnded = true;
    this.queued = [];
    this.finish();
    return this.exited;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.resolveExit({ code: 0, signal: null, expected: true, stderrTail: [] });
  }
}
