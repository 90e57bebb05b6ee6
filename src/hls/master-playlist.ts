import { averageBandwidth, peakBandwidth, type LadderPlan } from '../transcode/ladder';

const AUDIO_GROUP = 'audio';

/**
 * The master playlist is ours, not ffmpeg's: it is written once every rendition has a segment, so
 * a player never sees a variant that 404s, and BANDWIDTH/CODECS come from the plan.
 */
export function buildMasterPlaylist(plan: LadderPlan): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const audio = plan.audio;

  if (plan.video.length === 0) {
    if (!audio) throw new Error('a plan with neither video nor audio');
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${peakBandwidth(undefined, audio)},AVERAGE-BANDWIDTH=${averageBandwidth(undefined, audio)},CODECS="${audio.codecString}"`,
      `${audio.name}/index.m3u8`,
    );
    return lines.join('\n') + '\n';
  }

  if (audio) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${AUDIO_GROUP}",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="${audio.channels}",URI="${audio.name}/index.m3u8"`,
    );
  }
  for (const rendition of plan.video) {
    const frameRate = rendition.frameRate ?? plan.sourceFrameRate;
    const attributes = [
      `BANDWIDTH=${peakBandwidth(rendition, audio)}`,
      `AVERAGE-BANDWIDTH=${averageBandwidth(rendition, audio)}`,
      `RESOLUTION=${rendition.width}x${rendition.height}`,
      ...(frameRate !== undefined ? [`FRAME-RATE=${frameRate.toFixed(3)}`] : []),
      `CODECS="${[rendition.codecString, audio?.codecString].filter(Boolean).join(',')}"`,
      ...(audio ? [`AUDIO="${AUDIO_GROUP}"`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, `${rendition.name}/index.m3u8`);
  }
  return lines.join('\n') + '\n';
}
