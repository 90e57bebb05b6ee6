export interface PlaylistSegment {
  /** Media sequence number. */
  sequence: number;
  uri: string;
  duration: number;
  /** A discontinuity precedes this segment (a new ffmpeg run: reconnect or restart). */
  discontinuity: boolean;
  programDateTime?: string;
}

export interface MediaPlaylist {
  mediaSequence: number;
  discontinuitySequence: number;
  targetDuration: number;
  segments: PlaylistSegment[];
  endList: boolean;
  playlistType?: 'EVENT' | 'VOD';
}

/** Reads an HLS media playlist (ffmpeg's, or one of ours). */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const playlist: MediaPlaylist = { mediaSequence: 0, discontinuitySequence: 0, targetDuration: 0, segments: [], endList: false };
  let duration: number | undefined;
  let discontinuity = false;
  let programDateTime: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) playlist.mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE:')) playlist.discontinuitySequence = Number(line.slice(30));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) playlist.targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-PLAYLIST-TYPE:')) playlist.playlistType = line.slice(21) === 'VOD' ? 'VOD' : 'EVENT';
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) programDateTime = line.slice(25);
    else if (line === '#EXT-X-ENDLIST') playlist.endList = true;
    else if (!line.startsWith('#')) {
      playlist.segments.push({
        sequence: playlist.mediaSequence + playlist.segments.length,
        uri: line,
        duration: duration ?? 0,
        discontinuity,
        ...(programDateTime && { programDateTime }),
      });
      duration = undefined;
      discontinuity = false;
      programDateTime = undefined;
    }
  }
  return playlist;
}

/** The media sequence number of the newest segment, or undefined for an empty playlist. */
export function lastSequence(playlist: MediaPlaylist): number | undefined {
  return playlist.segments.length === 0 ? undefined : playlist.mediaSequence + playlist.segments.length - 1;
}

/** Writes a media playlist; the segments must be consecutive in sequence. */
export function renderMediaPlaylist(playlist: MediaPlaylist): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${playlist.targetDuration}`];
  if (playlist.playlistType) lines.push(`#EXT-X-PLAYLIST-TYPE:${playlist.playlistType}`);
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${playlist.mediaSequence}`);
  if (playlist.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${playlist.discontinuitySequence}`);
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  for (const segment of playlist.segments) lines.push(...segmentLines(segment));
  if (playlist.endList) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

export function segmentLines(segment: PlaylistSegment): string[] {
  return [
    ...(segment.discontinuity ? ['#EXT-X-DISCONTINUITY'] : []),
    ...(segment.programDateTime ? [`#EXT-X-PROGRAM-DATE-TIME:${segment.programDateTime}`] : []),
    `#EXTINF:${segment.duration.toFixed(3)},`,
    segment.uri,
  ];
}

/** The playlist says no segment will be added (the stream ended, or it is a VOD). */
export function hasEndList(text: string): boolean {
  return /^#EXT-X-ENDLIST\s*$/m.test(text);
}

export function withEndList(text: string): string {
  if (hasEndList(text)) return text;
  return `${text.endsWith('\n') ? text : `${text}\n`}#EXT-X-ENDLIST\n`;
}
