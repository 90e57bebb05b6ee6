// Media playlists as the tests and benchmarks read them, parsed by hls-parser: an independent
// reading of what the origin writes, LL-HLS tags included. Strictly: a playlist that breaks one of
// the rules hls-parser checks (RFC 8216bis) is an error, not a warning.
import * as HLS from 'hls-parser';

HLS.setOptions({ strictMode: true });

export interface PlaylistPart {
  uri: string;
  duration: number;
  independent: boolean;
}

export interface PlaylistSegment {
  /** Media sequence number. */
  sequence: number;
  uri: string;
  duration: number;
  /** An EXT-X-DISCONTINUITY precedes it. */
  discontinuity: boolean;
  discontinuitySequence: number;
  programDateTime?: string;
  /** The EXT-X-MAP in effect. */
  map?: string;
  /** EXT-X-GAP: listed without media. */
  gap: boolean;
  parts: PlaylistPart[];
}

export interface MediaPlaylist {
  version?: number;
  mediaSequence: number;
  discontinuitySequence: number;
  targetDuration: number;
  endList: boolean;
  playlistType?: 'EVENT' | 'VOD';
  partTarget?: number;
  serverControl?: { canBlockReload: boolean; canSkipUntil?: number; holdBack?: number; partHoldBack?: number };
  /** Segments an EXT-X-SKIP stands for (a delta update). */
  skipped: number;
  /** Complete segments. */
  segments: PlaylistSegment[];
  /** The segment being written: its parts so far. */
  partial?: { sequence: number; parts: PlaylistPart[] };
  /** EXT-X-PRELOAD-HINT's part URI. */
  hint?: string;
  renditionReports: Array<{ uri: string; lastMsn?: number; lastPart?: number }>;
}

interface ParsedPart {
  uri: string;
  duration?: number;
  independent?: boolean;
}

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const parsed = HLS.parse(text) as HLS.types.MediaPlaylist;
  if (parsed.isMasterPlaylist) throw new Error('not a media playlist');
  const raw = parsed as unknown as {
    version?: number;
    mediaSequenceBase?: number;
    discontinuitySequenceBase?: number;
    targetDuration: number;
    endlist: boolean;
    playlistType?: 'EVENT' | 'VOD';
    partTargetDuration?: number;
    lowLatencyCompatibility?: MediaPlaylist['serverControl'];
    skip?: number;
    segments: Array<{
      uri: string;
      mediaSequenceNumber: number;
      duration?: number;
      discontinuity?: boolean;
      discontinuitySequence?: number;
      programDateTime?: Date;
      map?: { uri: string };
      gap?: boolean;
      parts?: ParsedPart[];
    }>;
    renditionReports?: Array<{ uri: string; lastMSN?: number; lastPart?: number }>;
  };
  const playlist: MediaPlaylist = {
    ...(raw.version !== undefined && { version: raw.version }),
    mediaSequence: raw.mediaSequenceBase ?? 0,
    discontinuitySequence: raw.discontinuitySequenceBase ?? 0,
    targetDuration: raw.targetDuration,
    endList: raw.endlist,
    ...(raw.playlistType && { playlistType: raw.playlistType }),
    ...(raw.partTargetDuration !== undefined && { partTarget: raw.partTargetDuration }),
    ...(raw.lowLatencyCompatibility && { serverControl: raw.lowLatencyCompatibility }),
    skipped: raw.skip ?? 0,
    segments: [],
    renditionReports: (raw.renditionReports ?? []).map((r) => ({
      uri: r.uri,
      ...(r.lastMSN !== undefined && { lastMsn: r.lastMSN }),
      ...(r.lastPart !== undefined && { lastPart: r.lastPart }),
    })),
  };
  for (const segment of raw.segments) {
    // hls-parser lists the preload hint as a part without a duration.
    const all = segment.parts ?? [];
    const hint = all.find((part) => part.duration === undefined || part.duration === null);
    if (hint) playlist.hint = hint.uri;
    const parts = all.filter((part) => part !== hint).map((part) => ({ uri: part.uri, duration: part.duration!, independent: part.independent === true }));
    if (!segment.uri) {
      playlist.partial = { sequence: segment.mediaSequenceNumber, parts };
      continue;
    }
    playlist.segments.push({
      sequence: segment.mediaSequenceNumber,
      uri: segment.uri,
      duration: segment.duration ?? 0,
      discontinuity: segment.discontinuity === true,
      discontinuitySequence: segment.discontinuitySequence ?? 0,
      ...(segment.programDateTime && { programDateTime: segment.programDateTime.toISOString() }),
      ...(segment.map && { map: segment.map.uri }),
      gap: segment.gap === true,
      parts,
    });
  }
  return playlist;
}

/** The media sequence number of the newest complete segment, or undefined for none. */
export function lastSequence(playlist: MediaPlaylist): number | undefined {
  return playlist.segments.at(-1)?.sequence;
}
