// What the packager is fed, by copied and encoded runs alike: a track's configuration, then its
// samples with decode times in the track's own timescale.

/** Video is timed in 90 kHz ticks, as MPEG does, so FLV's milliseconds convert exactly. */
export const VIDEO_TIMESCALE = 90_000;
/** Samples an AAC frame holds, and so the ticks between frames at the sample rate. */
export const AAC_FRAME_SAMPLES = 1024;

export type PackagedVideoCodec = 'h264' | 'hevc' | 'av1';

/** The codec string of a source whose sequence header gave none (a main profile, a common level). */
export const FALLBACK_CODEC_STRINGS: Record<PackagedVideoCodec, string> = { h264: 'avc1.640028', hevc: 'hvc1.1.6.L120.90', av1: 'av01.0.08M.08' };

/** The video codecs the packager writes (and so may copy). */
export function isPackagedVideo(codec: string): codec is PackagedVideoCodec {
  return codec in FALLBACK_CODEC_STRINGS;
}

export interface VideoTrack {
  kind: 'video';
  codec: PackagedVideoCodec;
  /**
   * The decoder configuration record, as it goes into the sample entry's box: the
   * AVCDecoderConfigurationRecord (`avcC`), HEVCDecoderConfigurationRecord (`hvcC`) or
   * AV1CodecConfigurationRecord (`av1C`).
   */
  config: Buffer;
  /** RFC 6381, e.g. avc1.64001f, hvc1.1.6.L93.B0, av01.0.04M.08. */
  codecString: string;
  width: number;
  height: number;
  timescale: number;
}

export interface AudioTrack {
  kind: 'audio';
  codec: 'aac';
  /** The AudioSpecificConfig, as it goes into the `esds` box. */
  config: Buffer;
  codecString: string;
  sampleRate: number;
  channels: number;
  /** The sample rate: every AAC frame is then exactly 1024 ticks. */
  timescale: number;
}

export type Track = VideoTrack | AudioTrack;

export interface Sample {
  /** Decode time, in the track's timescale, on the run's input timeline. */
  dts: number;
  /** Presentation time minus decode time (B-frames); 0 for audio. */
  compositionOffset: number;
  keyframe: boolean;
  /** Length-prefixed NAL units (H.264, HEVC), a temporal unit's OBUs (AV1) or one raw AAC frame, exactly as they go into `mdat`. */
  data: Buffer;
}

/** Ticks of `timescale` in `ms` milliseconds. */
export function ticks(ms: number, timescale: number): number {
  return Math.round((ms * timescale) / 1000);
}

export function sameTrack(a: Track, b: Track): boolean {
  return a.kind === b.kind && a.codec === b.codec && a.timescale === b.timescale && a.config.equals(b.config);
}
