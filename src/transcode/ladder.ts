import type { RungConfig } from '../config/schema';
import type { AudioCodec, VideoCodec } from '../ingest/media';
import type { MasterDescription } from '../packaging/master-playlist';
import { FALLBACK_CODEC_STRINGS, isPackagedVideo } from '../packaging/track';

export interface SourceInfo {
  video?: { codec: VideoCodec; width: number; height: number; frameRate?: number; codecString?: string; bitrateKbps?: number };
  audio?: { codec: AudioCodec; codecString?: string; sampleRate?: number; channels?: number; bitrateKbps?: number };
}

interface RenditionBase {
  /** Folder name and label: "720p", "source". */
  name: string;
  width: number;
  height: number;
  codecString: string;
  /** Name of the audio rendition this video plays with. */
  audioGroup?: string;
}

export interface EncodedVideo extends RenditionBase {
  mode: 'encode';
  /** Output frame rate when it is capped below the source's; otherwise the source rate is kept. */
  frameRate?: number;
  videoBitrateKbps: number;
  maxrateKbps: number;
  bufsizeKbps: number;
  profile: 'high' | 'main';
  /** H.264 level, e.g. "3.1"; chosen from size and frame rate so that the CODECS attribute is exact. */
  level: string;
}

/** The publisher's H.264, remuxed: no encode. Its bitrate is the publisher's. */
export interface CopiedVideo extends RenditionBase {
  mode: 'copy';
}

export type VideoRendition = EncodedVideo | CopiedVideo;

export interface AudioRendition {
  /** "audio", or "audio_96k" when a profile asks for several audio bitrates. */
  name: string;
  mode: 'encode' | 'copy';
  /** Target bitrate when encoding; the source's (or an estimate) when copying. */
  bitrateKbps: number;
  channels: number;
  codecString: string;
}

export interface LadderPlan {
  video: VideoRendition[];
  audio: AudioRendition[];
  /**
   * `grid`: keyframes forced every segment duration. `source`: at the source's keyframes, so that
   * a copied source rendition and the encoded ones cut their segments at the same instants.
   */
  keyframes: 'grid' | 'source';
  /** The source's frame rate, when its metadata says. */
  sourceFrameRate?: number;
  /** Frame rate used for GOP sizes: the source's, or 30 when the source does not say. */
  frameRate: number;
  /** Poster size (≤ 360 lines), when there is video. */
  poster?: { width: number; height: number };
}

export interface Profile {
  kind: 'ladder' | 'passthrough';
  rungs: readonly RungConfig[];
  /** Add a rendition that copies the source video when it is H.264. */
  sourceRung: boolean;
}

export interface LadderOptions {
  profile: Profile;
  audioBitrateKbps: number;
}

/**
 * H.264 profiles that browsers, Safari/iOS and hardware decoders play: Baseline, Main, Extended and
 * High, which is 8-bit 4:2:0. High 10, High 4:2:2 and High 4:4:4 mostly are not.
 */
const WIDELY_PLAYABLE_PROFILES = new Set([66, 77, 88, 100]);
const PROFILE_NAMES: Record<number, string> = { 44: 'CAVLC 4:4:4', 110: 'High 10', 122: 'High 4:2:2', 244: 'High 4:4:4 Predictive' };

/** The H.264 profile of a source that most players cannot decode (from its codec string), else undefined. */
export function unplayableProfile(video: NonNullable<SourceInfo['video']>): string | undefined {
  const match = video.codec === 'h264' ? /^avc[13]\.([0-9a-f]{2})/i.exec(video.codecString ?? '') : null;
  if (!match) return undefined;
  const profile = parseInt(match[1]!, 16);
  return WIDELY_PLAYABLE_PROFILES.has(profile) ? undefined : (PROFILE_NAMES[profile] ?? `profile ${profile}`);
}

const DEFAULT_FRAME_RATE = 30;
const POSTER_HEIGHT = 360;
/** Assumed bitrate of a copied AAC track whose publisher did not say. */
const DEFAULT_COPIED_AUDIO_KBPS = 128;

/**
 * Chooses the renditions for a source. Encoded rungs never go above the source height. With a
 * source rung, rungs at the source height are left to it; without one, a source smaller than every
 * rung gets one rendition at its own size.
 */
export function planLadder(source: SourceInfo, options: LadderOptions): LadderPlan {
  const { profile } = options;
  const sourceFrameRate = source.video?.frameRate;
  const audio = planAudio(source, options);
  const defaultGroup = audio[0]?.name;
  const plan: LadderPlan = {
    video: [],
    audio,
    keyframes: 'grid',
    frameRate: sourceFrameRate ?? DEFAULT_FRAME_RATE,
    ...(sourceFrameRate !== undefined && { sourceFrameRate }),
  };
  const video = source.video;
  if (!video) return plan;

  const posterHeight = evenFloor(Math.min(POSTER_HEIGHT, video.height));
  plan.poster = { width: evenRound((video.width * posterHeight) / video.height), height: posterHeight };
  const copy: CopiedVideo = {
    mode: 'copy',
    name: 'source',
    width: video.width,
    height: video.height,
    codecString: video.codecString ?? (isPackagedVideo(video.codec) ? FALLBACK_CODEC_STRINGS[video.codec] : FALLBACK_CODEC_STRINGS.h264),
    ...(defaultGroup !== undefined && { audioGroup: defaultGroup }),
  };
  if (profile.kind === 'passthrough') {
    plan.video = [copy];
    plan.keyframes = 'source';
    return plan;
  }

  const byHeight = [...profile.rungs].sort((a, b) => b.height - a.height);
  // A source many players cannot decode is also encoded in H.264 at its own size: an H.264 profile
  // most players lack instead of being copied; HEVC and AV1 beside their copy, which the players
  // that decode them pick.
  const h264 = video.codec === 'h264';
  const unplayable = h264 && unplayableProfile(video) !== undefined;
  const encodeTop = profile.sourceRung && (!h264 || unplayable);
  const withSource = profile.sourceRung && !unplayable;
  let chosen = byHeight.filter((rung) => (profile.sourceRung ? rung.height < video.height : rung.height <= video.height));
  const smallest = byHeight[byHeight.length - 1];
  if (encodeTop && byHeight[0]) chosen = [topRung(byHeight[0], byHeight, video.height), ...chosen];
  if (!withSource && chosen.length === 0 && smallest) {
    chosen = [{ ...smallest, name: `${evenFloor(video.height)}p`, height: evenFloor(video.height) }];
  }
  const encoded = chosen.map((rung) => encodedRendition(rung, video.width, video.height, sourceFrameRate, audioGroupFor(rung, audio, options)));
  plan.video = withSource ? [copy, ...encoded] : encoded;
  plan.keyframes = withSource ? 'source' : 'grid';
  return plan;
}

/** The most frames a second an encoded rung makes once its transcoder has fallen behind. */
const ECONOMY_FRAME_RATE = 30;

/**
 * The same renditions, cheaper to encode, for a transcoder that cannot keep up: no encoded rung
 * above 30 fps. Names, sizes and bitrates stay, so players go on with the same playlists.
 */
export function economyPlan(plan: LadderPlan): LadderPlan {
  return {
    ...plan,
    video: plan.video.map((v) => (v.mode === 'encode' && (v.frameRate ?? plan.sourceFrameRate ?? Infinity) > ECONOMY_FRAME_RATE ? { ...v, frameRate: ECONOMY_FRAME_RATE } : v)),
  };
}

/**
 * An encoded rung at the source's own size: the rung of that height if the profile has one, else
 * the tallest rung's settings with its bitrate scaled to the source's pixels (never below it).
 */
function topRung(tallest: RungConfig, rungs: readonly RungConfig[], height: number): RungConfig {
  const name = `${evenFloor(height)}p`;
  const same = rungs.find((rung) => rung.height === evenFloor(height));
  if (same) return { ...same, name };
  // Same aspect ratio: the pixels grow with the square of the height.
  const scale = Math.max(1, (height / tallest.height) ** 2);
  return {
    ...tallest,
    name,
    height: evenFloor(height),
    videoBitrateKbps: Math.round(tallest.videoBitrateKbps * scale),
    ...(tallest.maxrateKbps !== undefined && { maxrateKbps: Math.round(tallest.maxrateKbps * scale) }),
  };
}

/**
 * Audio is encoded once per distinct bitrate the rungs ask for and shared by them; a stereo or
 * mono AAC source is copied instead when one bitrate is asked for (or for passthrough).
 */
function planAudio(source: SourceInfo, options: LadderOptions): AudioRendition[] {
  const audio = source.audio;
  if (!audio) return [];
  const copyable = audio.codec === 'aac' && (audio.channels ?? 2) <= 2;
  const bitrates = options.profile.kind === 'passthrough' ? [options.audioBitrateKbps] : distinctAudioBitrates(options);
  if (copyable && bitrates.length === 1) {
    return [
      {
        name: 'audio',
        mode: 'copy',
        bitrateKbps: audio.bitrateKbps ?? DEFAULT_COPIED_AUDIO_KBPS,
        channels: audio.channels ?? 2,
        codecString: audio.codecString ?? 'mp4a.40.2',
      },
    ];
  }
  return bitrates.map((bitrateKbps) => ({
    name: bitrates.length === 1 ? 'audio' : `audio_${bitrateKbps}k`,
    mode: 'encode',
    bitrateKbps,
    channels: 2,
    codecString: 'mp4a.40.2',
  }));
}

function distinctAudioBitrates(options: LadderOptions): number[] {
  const set = new Set(options.profile.rungs.map((rung) => rung.audioBitrateKbps ?? options.audioBitrateKbps));
  return [...set].sort((a, b) => b - a);
}

function audioGroupFor(rung: RungConfig, audio: AudioRendition[], options: LadderOptions): string | undefined {
  if (audio.length <= 1) return audio[0]?.name;
  const wanted = rung.audioBitrateKbps ?? options.audioBitrateKbps;
  return audio.find((a) => a.bitrateKbps === wanted)?.name ?? audio[0]?.name;
}

function encodedRendition(rung: RungConfig, sourceWidth: number, sourceHeight: number, sourceFrameRate: number | undefined, audioGroup: string | undefined): EncodedVideo {
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
    mode: 'encode',
    name: rung.name,
    width,
    height,
    ...(frameRate !== undefined && { frameRate }),
    videoBitrateKbps: rung.videoBitrateKbps,
    maxrateKbps,
    bufsizeKbps: maxrateKbps * 2,
    profile,
    level,
    codecString: `avc1.${profile === 'high' ? '6400' : '4d40'}${Math.round(Number(level) * 10)
      .toString(16)
      .padStart(2, '0')}`,
    ...(audioGroup !== undefined && { audioGroup }),
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

/** The names of every rendition folder of a plan, video first. */
export function renditionNames(plan: LadderPlan): string[] {
  return [...plan.video.map((r) => r.name), ...plan.audio.map((a) => a.name)];
}

function evenFloor(n: number): number {
  return Math.max(2, Math.floor(n / 2) * 2);
}

function evenRound(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

/**
 * The plan as the master playlist declares it: BANDWIDTH is the peak (an encoder's max rate, or a
 * copied rendition's measured rate with 20% for its peaks) plus 10% for the container and
 * headroom; AVERAGE-BANDWIDTH the target or measured rate plus 5%. `measuredKbps`: what copied
 * renditions actually carry, which the plan cannot know.
 */
export function describeRenditions(plan: LadderPlan, measuredKbps: Record<string, number>): MasterDescription {
  const audioKbps = (audio: AudioRendition) => measuredKbps[audio.name] ?? audio.bitrateKbps;
  if (plan.video.length === 0) {
    return {
      audio: [],
      variants: plan.audio.map((audio) => ({ rendition: audio.name, bandwidth: peak(audioKbps(audio)), averageBandwidth: average(audioKbps(audio)), codecs: [audio.codecString] })),
    };
  }
  return {
    audio: plan.audio.map((audio) => ({ rendition: audio.name, channels: audio.channels })),
    variants: plan.video.map((video) => {
      const audio = plan.audio.find((a) => a.name === video.audioGroup);
      const withAudio = audio ? audioKbps(audio) : 0;
      const kbps = (video.mode === 'encode' ? video.videoBitrateKbps : (measuredKbps[video.name] ?? 0)) + withAudio;
      const peakKbps = video.mode === 'encode' ? video.maxrateKbps + withAudio : kbps * 1.2;
      const frameRate = video.mode === 'encode' ? (video.frameRate ?? plan.sourceFrameRate) : plan.sourceFrameRate;
      return {
        rendition: video.name,
        bandwidth: peak(peakKbps),
        averageBandwidth: average(kbps),
        resolution: { width: video.width, height: video.height },
        ...(frameRate !== undefined && { frameRate }),
        codecs: [video.codecString, ...(audio ? [audio.codecString] : [])],
        ...(audio && { audioGroup: audio.name }),
      };
    }),
  };
}

function peak(kbps: number): number {
  return Math.round(kbps * 1000 * 1.1);
}

function average(kbps: number): number {
  return Math.round(kbps * 1000 * 1.05);
}
