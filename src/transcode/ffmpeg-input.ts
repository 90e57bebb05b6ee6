// What ffmpeg reads on stdin: the publisher's FLV as it came for H.264, or, for HEVC and AV1 (which
// ffmpeg 5.1 cannot read from Enhanced RTMP's FLV), fragmented MP4 built from the same samples.
import { av1Sample } from '../ingest/codec-records';
import { flvHeader, type MediaTag } from '../ingest/media';
import { fragment, initSegment } from '../packaging/fmp4';
import { AAC_FRAME_SAMPLES, isPackagedVideo, ticks, VIDEO_TIMESCALE, type AudioTrack, type Track, type VideoTrack } from '../packaging/track';

export type InputFormat = 'flv' | 'mp4';

export interface FfmpegStdin {
  /** What goes first. */
  readonly header: Buffer[];
  /** A tag as ffmpeg reads it: nothing yet, or buffers to write in order. */
  tag(tag: MediaTag): Buffer[];
}

export interface InputTracks {
  video: boolean;
  audio: boolean;
  /** The source's size, for a sequence header whose own could not be read. */
  size?: { width: number; height: number };
}

/** The input format for a source: FLV unless its video is something ffmpeg 5.1 cannot read from FLV. */
export function inputFormatFor(videoCodec: string | undefined, readsVideo: boolean): InputFormat {
  return readsVideo && (videoCodec === 'hevc' || videoCodec === 'av1') ? 'mp4' : 'flv';
}

export function ffmpegStdin(format: InputFormat, tracks: InputTracks): FfmpegStdin {
  return format === 'flv' ? flvInput(tracks) : new Fmp4Input(tracks);
}

function flvInput(tracks: InputTracks): FfmpegStdin {
  return { header: [flvHeader(tracks.audio, tracks.video)], tag: (tag) => [tag.bytes] };
}

/** A video frame's duration until the next one says otherwise: 30 fps. */
const DEFAULT_FRAME_TICKS = VIDEO_TIMESCALE / 30;

/**
 * One moov with a track for the video and one for the audio ffmpeg reads (once both sequence
 * headers are in), then a fragment per frame, each with its decode time in `tfdt`: ffmpeg takes
 * every fragment's time from there, so its timestamps are the publisher's, as with FLV. A sample's
 * duration is the one before it (ffmpeg needs a value; the next fragment's time corrects it).
 */
class Fmp4Input implements FfmpegStdin {
  readonly header: Buffer[] = [];
  private video: VideoTrack | undefined;
  private audio: AudioTrack | undefined;
  private started = false;
  private sequence = 0;
  private lastVideoDts: number | undefined;
  private videoDuration = DEFAULT_FRAME_TICKS;

  constructor(private readonly tracks: InputTracks) {}

  tag(tag: MediaTag): Buffer[] {
    if (tag.kind === 'metadata') return [];
    if (tag.config) return this.configure(tag);
    if (!this.started) return [];
    if (tag.kind === 'video' && this.video) {
      const data = tag.codec === 'av1' ? av1Sample(tag.data) : tag.data;
      if (!data || data.length === 0) return [];
      const dts = ticks(tag.timestamp, VIDEO_TIMESCALE);
      if (this.lastVideoDts !== undefined && dts > this.lastVideoDts) this.videoDuration = dts - this.lastVideoDts;
      this.lastVideoDts = dts;
      const sample = { duration: this.videoDuration, compositionOffset: ticks(tag.compositionTime, VIDEO_TIMESCALE), keyframe: tag.keyframe, data };
      return fragment(++this.sequence, dts, [sample], true, 1);
    }
    if (tag.kind === 'audio' && this.audio && tag.data.length > 0) {
      const sample = { duration: AAC_FRAME_SAMPLES, compositionOffset: 0, keyframe: true, data: tag.data };
      return fragment(++this.sequence, ticks(tag.timestamp, this.audio.timescale), [sample], false, this.video ? 2 : 1);
    }
    return [];
  }

  /** A sequence header: the track it describes, and the moov once every track read is known. Later ones cannot change it. */
  private configure(tag: MediaTag): Buffer[] {
    if (this.started) return [];
    if (tag.kind === 'video' && this.tracks.video && isPackagedVideo(tag.codec) && tag.config) {
      const width = tag.config.width ?? this.tracks.size?.width;
      const height = tag.config.height ?? this.tracks.size?.height;
      if (!width || !height) return [];
      this.video = { kind: 'video', codec: tag.codec, config: Buffer.from(tag.data), codecString: tag.config.codecString ?? '', width, height, timescale: VIDEO_TIMESCALE };
    } else if (tag.kind === 'audio' && this.tracks.audio && tag.codec === 'aac' && tag.config?.sampleRate) {
      const rate = tag.config.sampleRate;
      this.audio = {
        kind: 'audio',
        codec: 'aac',
        config: Buffer.from(tag.data),
        codecString: tag.config.codecString ?? '',
        sampleRate: rate,
        channels: tag.config.channels ?? 2,
        timescale: rate,
      };
    }
    if ((this.tracks.video && !this.video) || (this.tracks.audio && !this.audio)) return [];
    this.started = true;
    const tracks: Track[] = [...(this.video ? [this.video] : []), ...(this.audio ? [this.audio] : [])];
    return [initSegment(...tracks)];
  }
}
