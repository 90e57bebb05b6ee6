import { LIVE_PLAYLIST, RECORDING_PLAYLIST } from './media-layout';

/** A variant of the master playlist: a video rendition with its audio, or an audio rendition alone. */
export interface MasterVariant {
  rendition: string;
  /** bits/s: the peak (BANDWIDTH) and the average (AVERAGE-BANDWIDTH), audio included. */
  bandwidth: number;
  averageBandwidth: number;
  resolution?: { width: number; height: number };
  frameRate?: number;
  codecs: string[];
  /** The EXT-X-MEDIA audio group it plays with. */
  audioGroup?: string;
}

export interface MasterAudio {
  rendition: string;
  channels: number;
}

export interface MasterDescription {
  variants: MasterVariant[];
  /** Audio renditions referred to by the variants' groups (none when the variants are audio). */
  audio: MasterAudio[];
}

export interface MasterOptions {
  /** Prefix of every media playlist URI, e.g. "sessions/<id>/". */
  uriPrefix: string;
  /** The live window or the recording. */
  playlist: typeof LIVE_PLAYLIST | typeof RECORDING_PLAYLIST;
}

/**
 * The master playlist is written once every rendition has a segment, so a player never sees a
 * variant that 404s. Version 6: media playlists use EXT-X-MAP (CMAF).
 */
export function buildMasterPlaylist(description: MasterDescription, options: MasterOptions): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const uri = (name: string) => `${options.uriPrefix}${name}/${options.playlist}`;
  for (const audio of description.audio) {
    lines.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${audio.rendition}",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="${audio.channels}",URI="${uri(audio.rendition)}"`);
  }
  for (const variant of description.variants) {
    const attributes = [
      `BANDWIDTH=${Math.round(variant.bandwidth)}`,
      `AVERAGE-BANDWIDTH=${Math.round(variant.averageBandwidth)}`,
      ...(variant.resolution ? [`RESOLUTION=${variant.resolution.width}x${variant.resolution.height}`] : []),
      ...(variant.frameRate !== undefined ? [`FRAME-RATE=${variant.frameRate.toFixed(3)}`] : []),
      `CODECS="${variant.codecs.join(',')}"`,
      ...(variant.audioGroup ? [`AUDIO="${variant.audioGroup}"`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, uri(variant.rendition));
  }
  return lines.join('\n') + '\n';
}
