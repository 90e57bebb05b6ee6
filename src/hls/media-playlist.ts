export interface PlaylistSegment {
  uri: string;
  duration: number;
  discontinuity: boolean;
  programDateTime?: string;
}

export interface MediaPlaylist {
  mediaSequence: number;
  targetDuration: number;
  segments: PlaylistSegment[];
  endList: boolean;
}

/** Reads the parts of an HLS media playlist that the origin acts on. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const playlist: MediaPlaylist = { mediaSequence: 0, targetDuration: 0, segments: [], endList: false };
  let duration: number | undefined;
  let discontinuity = false;
  let programDateTime: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) playlist.mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) playlist.targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) programDateTime = line.slice(25);
    else if (line === '#EXT-X-ENDLIST') playlist.endList = true;
    else if (!line.startsWith('#')) {
      playlist.segments.push({ uri: line, duration: duration ?? 0, discontinuity, ...(programDateTime && { programDateTime }) });
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

export function withEndList(text: string): string {
  if (/^#EXT-X-ENDLIST\s*$/m.test(text)) return text;
  return `${text.endsWith('\n') ? text : `${text}\n`}#EXT-X-ENDLIST\n`;
}
