import type { RungConfig } from '../config/schema';
import type { AudioCodec, VideoCodec } from '../ingest/media';

export interface SourceInfo {
  video?: { codec: VideoCodec; width: number; height: number; frameRate?: number; codecString?: string };
  audio?: { codec: AudioCodec; codecString?: string; sampleRate?: number; channels?: number };
}

export interface VideoRendition {
  /** Folder name and label: "720p". */
  name: string;
  width: number;
  height: number;
  /** Output frame rate when it is capped below the source's; otherwise the source rate is kept. */
  frameRate?: number;
  videoBitrateKbps: number;
  maxrateKbps: number;
  bufsizeKbps: number;
  profile: 'high' | 'main';
  /** H.264 level, e.g. "3.1"; chosen from size and frame rate so that the CODECS attribute is exact. */
  level: string;
  codecString: string;
}

export interface AudioRendition {
  name: 'audio';
  bitrateKbps: number;
  channels: 2;
  codecString: 'mp4a.40.2';
}

export interface LadderPlan {
  video: VideoRendition[];
  audio?: AudioRendition;
  /** The source's frame rate, when its metadata says. */
  sourceFrameRate?: number;
  /** Frame rate used for GOP sizes: the source's, or 30 when the source does not say. */
  frameRate: number;
}

export interface LadderOptions {
  rungs: readonly RungConfig[];
  audioBitrateKbps: number;
}

const DEFAULT_FRAME_RATE = 30;

/**
 * Chooses the renditions for a source: no rung above the source height; a source smaller than
 * every rung gets one rendition at its own size, with the smallest rung's settings.
 */
export function planLadder(source: SourceInfo, options: LadderOptions): LadderPlan {
  const sourceFrameRate = source.video?.frameRate;
  const plan: LadderPlan = { video: [], frameRate: sourceFrameRate ?? DEFAULT_FRAME_RATE, ...(sourceFrameRate !== undefined && { sourceFrameRate }) };
  if (source.video) {
    const { width: sourceWidth, height: sourceHeight } = source.video;
    const byHeight = [...options.rungs].sort((a, b) => b.height - a.height);
    let chosen = byHeight.filter((rung) => rung.height <= sourceHeight);
    const smallest = byHeight[byHeight.length - 1];
    if (chosen.length === 0 && smallest) chosen = [{ ...smallest, name: `${evenFloor(sourceHeight)}p`, height: evenFloor(sourceHeight) }];
    plan.video = chosen.map((rung) => videoRendition(rung, sourceWidth, sourceHeight, source.video?.frameRate));
  }
  if (source.audio) {
    plan.audio = { name: 'audio', bitrateKbps: options.audioBitrateKbps, channels: 2, codecString: 'mp4a.40.2' };
  }
  return plan;
}

function videoRendition(rung: RungConfig, sourceWidth: number, sourceHeight: number, sourceFrameRate: number | undefined): VideoRendition {
  const height = evenFloor(rung.height);
  const width = evenRound((sourceWidth * height) / sourceHeight);
  const capped = rung.maxFps !== undefined && (sourceFrameRate === undefined || sourceFrameRate > rung.maxFps);
  const frameRate = capped ? rung.maxFps : undefined;
  const maxrateKbps = rung.maxrateKbps ?? Math.round(rung.videoBitrateKbps * 1.1);
  // Unknown source rates are sized for 60 fps so that the declared level is never too low.
  const levelFrameRate = frameRate ?? sourceFrameRate ?? 60;
  const profile = height >= 480 ? 'high' : 'main';
  const level = h264Level(width, height, levelFrameRate, maxrateKbps, profile);
  return {
    name: rung.name,
    width,
    height,
    ...(frameRate !== undefined && { frameRate }),
    videoBitrateKbps: rung.videoBitrateKbps,
    maxrateKbps,
    bufsizeKbps: maxrateKbps * 2,
    profile,
    level,
    codecString: `avc1.${profile === 'high' ? '6400' : '4d40'}${Math.round(Number(level) * 10).toString(16).padStart(2, '0')}`,
  };
}

/** ITU-T H.264 Table A-1: max macroblocks/s, max frame size in macroblocks, max bitrate (kbit/s, Main). */
const LEVELS: ReadonlyArray<[string, number, number, number]> = [
  ['3.0', 40_500, 1_620, 10_000],
  ['3.1', 108_000, 3_600, 14_000],
  ['3.2', 216_000, 5_120, 20_000],
  ['4.0', 245_760, 8_192, 20_000],
  ['4.1', 245_760, 8_192, 50_000],
  ['4.2', 522_240, 8_704, 50_000],
  ['5.0', 589_824, 22_080, 135_000],
  ['5.1', 983_040, 36_864, 240_000],
  ['5.2', 2_073_600, 36_864, 240_000],
];

export function h264Level(width: number, height: number, frameRate: number, maxrateKbps: number, profile: 'high' | 'main'): string {
  const frameSize = Math.ceil(width / 16) * Math.ceil(height / 16);
  const perSecond = frameSize * frameRate;
  // High profile allows 1.25x the Main bitrate at each level.
  const bitrateFactor = profile === 'high' ? 1.25 : 1;
  const found = LEVELS.find(([, mbps, fs, br]) => perSecond <= mbps && frameSize <= fs && maxrateKbps <= br * bitrateFactor);
  return (found ?? LEVELS[LEVELS.length - 1]!)[0];
}

/** Total declared peak bitrate for the master playlist, with ~10% for MPEG-TS overhead. */
export function peakBandwidth(rendition: VideoRendition | undefined, audio: AudioRendition | undefined): number {
  const kbps = (rendition?.maxrateKbps ?? 0) + (audio?.bitrateKbps ?? 0);
  return Math.round(kbps * 1000 * 1.1);
}

export function averageBandwidth(rendition: VideoRendition | undefined, audio: AudioRendition | undefined): number {
  const kbps = (rendition?.videoBitrateKbps ?? 0) + (audio?.bitrateKbps ?? 0);
  return Math.round(kbps * 1000 * 1.05);
}

function evenFloor(n: number): number {
  return Math.max(2, Math.floor(n / 2) * 2);
}

function evenRound(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}
