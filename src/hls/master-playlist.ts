import type { AudioRendition, LadderPlan, VideoRendition } from '../transcode/ladder';

export interface MasterOptions {
  /** Prefix of every media playlist URI, e.g. "sessions/<id>/". */
  uriPrefix: string;
  /** File name of the media playlists: the live window or the recording. */
  playlist: 'index.m3u8' | 'recording.m3u8';
  /** Measured bitrates (kbit/s) of copied renditions, which the plan cannot know. */
  measuredKbps?: Record<string, number>;
}

/**
 * The master playlist is ours, not ffmpeg's: it is written once every rendition has a segment, so
 * a player never sees a variant that 404s, and BANDWIDTH/CODECS come from the plan (and, for
 * copied renditions, from what was measured).
 */
export function buildMasterPlaylist(plan: LadderPlan, options: MasterOptions): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:4', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const uri = (name: string) => `${options.uriPrefix}${name}/${options.playlist}`;
  const measured = options.measuredKbps ?? {};

  if (plan.video.length === 0) {
    for (const audio of plan.audio) {
      const kbps = audioKbps(audio, measured);
      lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${peak(kbps)},AVERAGE-BANDWIDTH=${average(kbps)},CODECS="${audio.codecString}"`, uri(audio.name));
    }
    return lines.join('\n') + '\n';
  }

  for (const audio of plan.audio) {
    lines.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${audio.name}",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="${audio.channels}",URI="${uri(audio.name)}"`);
  }
  for (const video of plan.video) {
    const audio = plan.audio.find((a) => a.name === video.audioGroup);
    const kbps = videoKbps(video, measured) + (audio ? audioKbps(audio, measured) : 0);
    const peakKbps = video.mode === 'encode' ? video.maxrateKbps + (audio ? audioKbps(audio, measured) : 0) : kbps * 1.2;
    const frameRate = video.mode === 'encode' ? (video.frameRate ?? plan.sourceFrameRate) : plan.sourceFrameRate;
    const attributes = [
      `BANDWIDTH=${peak(peakKbps)}`,
      `AVERAGE-BANDWIDTH=${average(kbps)}`,
      `RESOLUTION=${video.width}x${video.height}`,
      ...(frameRate !== undefined ? [`FRAME-RATE=${frameRate.toFixed(3)}`] : []),
      `CODECS="${[video.codecString, audio?.codecString].filter(Boolean).join(',')}"`,
      ...(audio ? [`AUDIO="${audio.name}"`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, uri(video.name));
  }
  return lines.join('\n') + '\n';
}

function videoKbps(video: VideoRendition, measured: Record<string, number>): number {
  return video.mode === 'encode' ? video.videoBitrateKbps : (measured[video.name] ?? 0);
}

function audioKbps(audio: AudioRendition, measured: Record<string, number>): number {
  return measured[audio.name] ?? audio.bitrateKbps;
}

/** Declared peak, with ~10% for MPEG-TS overhead. */
function peak(kbps: number): number {
  return Math.round(kbps * 1000 * 1.1);
}

function average(kbps: number): number {
  return Math.round(kbps * 1000 * 1.05);
}
