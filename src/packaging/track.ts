// What the packager is fed, by copied and encoded runs alike: a track's configuration, then its
// samples with decode times in the track's own timescale.

/** Video is timed in 90 kHz ticks, as MPEG does, so FLV's milliseconds convert exactly. */
export const VIDEO_TIMESCALE = 90_000;
/** Samples an AAC frame holds, and so the ticks between frames at the sample rate. */
export const AAC_FRAME_SAMPLES = 1024;


export interface VideoTrack {
  kind: 'video';
  codec: 'h264';
  /** The AVCDecoderConfigurationRecord, as it goes into the `avcC` box. */
  config: Buffer;
  /** RFC 6381, e.g. avc1.64001f. */
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
  /** Length-prefixed NAL units (H.264) or one raw AAC frame, exactly as they go into `mdat`. */
  data: Buffer;
}

/** Ticks of `timescale` in `ms` milliseconds. */
export function ticks(ms: number, timescale: number): number {
  return Math.round((ms * timescale) / 1000);
}

export function sameTrack(a: Track, b: Track): boolean {
  return a.kind === b.kind && a.codec === b.codec && a.timescale === b.timescale && a.config.equals(b.config);
}
