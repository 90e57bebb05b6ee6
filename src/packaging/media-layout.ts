import path from 'node:path';
import { ID_PATTERN, PLAYBACK_ID_PATTERN } from '../streams/keys';

/**
 * Where a stream's files live and what they are called: the one place that builds or parses these
 * names. Everything is addressed by the public playback id; each publish session writes into its
 * own folder, so no URL is ever reused by a later session.
 *
 *   live/<playbackId>/master.m3u8                                  the stream's master: points into the current session
 *   live/<playbackId>/poster.jpg
 *   live/<playbackId>/sessions/<sessionId>/master.m3u8             recorded sessions: the recording's master
 *   live/<playbackId>/sessions/<sessionId>/<rendition>/init_<n>.mp4     CMAF header (EXT-X-MAP): a new one at each run and each change of codec parameters, numbered within the session
 *   live/<playbackId>/sessions/<sessionId>/<rendition>/seg_<msn>.m4s    a segment: its parts, one after another
 *   live/<playbackId>/sessions/<sessionId>/<rendition>/index.m3u8       written when the session ends
 *   live/<playbackId>/sessions/<sessionId>/<rendition>/recording.m3u8   recorded sessions: every segment
 *
 * A part is addressed as seg_<msn>.<part>.m4s but has no file of its own: it is a byte range of its
 * segment's file. Live media playlists have no file either: they are rendered from the packager's
 * timeline on request.
 */
export class MediaLayout {
  readonly liveRoot: string;

  constructor(readonly mediaDir: string) {
    this.liveRoot = path.join(mediaDir, 'live');
  }

  streamDir(playbackId: string): string {
    if (!PLAYBACK_ID_PATTERN.test(playbackId)) throw new Error('not a playback id');
    // Not path.join: every HLS request asks for this, and a playback id is a plain name.
    return `${this.liveRoot}${path.sep}${playbackId}`;
  }

  streamMaster(playbackId: string): string {
    return path.join(this.streamDir(playbackId), MASTER_PLAYLIST);
  }

  poster(playbackId: string): string {
    return path.join(this.streamDir(playbackId), POSTER);
  }

  sessionsDir(playbackId: string): string {
    return path.join(this.streamDir(playbackId), SESSIONS);
  }

  sessionDir(playbackId: string, sessionId: string): string {
    if (!ID_PATTERN.test(sessionId)) throw new Error('not a session id');
    return path.join(this.sessionsDir(playbackId), sessionId);
  }

  sessionMaster(playbackId: string, sessionId: string): string {
    return path.join(this.sessionDir(playbackId, sessionId), MASTER_PLAYLIST);
  }

  renditionDir(playbackId: string, sessionId: string, rendition: string): string {
    return path.join(this.sessionDir(playbackId, sessionId), rendition);
  }
}

const MASTER_PLAYLIST = 'master.m3u8';
export const LIVE_PLAYLIST = 'index.m3u8';
export const RECORDING_PLAYLIST = 'recording.m3u8';
const POSTER = 'poster.jpg';
/** Not a file: where players say they are watching. */
const PRESENCE = 'viewers';
const SESSIONS = 'sessions';

export function segmentName(msn: number): string {
  return `seg_${msn}.m4s`;
}

export function partName(msn: number, part: number): string {
  return `seg_${msn}.${part}.m4s`;
}

export function initName(n: number): string {
  return `init_${n}.mp4`;
}

/** The stream master refers to its session's playlists with this prefix. */
export function sessionUriPrefix(sessionId: string): string {
  return `${SESSIONS}/${sessionId}/`;
}

/** From one media playlist to a sibling rendition's (EXT-X-RENDITION-REPORT). */
export function siblingPlaylistUri(rendition: string): string {
  return `../${rendition}/${LIVE_PLAYLIST}`;
}

/** The session a stream master points into. */
export function sessionOfMaster(text: string): string | undefined {
  return /sessions\/([A-Za-z0-9]{16})\//.exec(text)?.[1];
}

/** The files and resources of a stream that are served; nothing else is. */
export type HlsFile =
  | { kind: 'stream-master' }
  | { kind: 'poster' }
  | { kind: 'presence' }
  | { kind: 'session-master'; sessionId: string }
  | { kind: 'media-playlist'; sessionId: string; rendition: string; recording: boolean }
  | { kind: 'init'; sessionId: string; rendition: string }
  | { kind: 'segment'; sessionId: string; rendition: string; msn: number }
  | { kind: 'part'; sessionId: string; rendition: string; msn: number; part: number };

/** A path part we may have written: no leading dot, no separators, nothing encoded. */
const SAFE_PART = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
const SEGMENT = /^seg_(\d{1,9})\.m4s$/;
const PART = /^seg_(\d{1,9})\.(\d{1,4})\.m4s$/;
const INIT = /^init_\d{1,6}\.mp4$/;

/** Whether every component of a path below a stream's folder could be one we wrote. */
export function safePathParts(parts: readonly string[]): boolean {
  return parts.every((part) => SAFE_PART.test(part) && !part.includes('..'));
}

/** What a path below a stream's folder names (`parts`: its components), if it is one of ours. */
export function classifyHlsPath(parts: readonly string[]): HlsFile | undefined {
  if (!safePathParts(parts)) return undefined;
  const [first, sessionId, rendition, name] = parts;
  if (parts.length === 1) {
    if (first === MASTER_PLAYLIST) return { kind: 'stream-master' };
    if (first === POSTER) return { kind: 'poster' };
    if (first === PRESENCE) return { kind: 'presence' };
    return undefined;
  }
  if (first !== SESSIONS || sessionId === undefined || !ID_PATTERN.test(sessionId)) return undefined;
  if (parts.length === 3 && rendition === MASTER_PLAYLIST) return { kind: 'session-master', sessionId };
  if (parts.length !== 4 || name === undefined || rendition === undefined) return undefined;
  if (name === LIVE_PLAYLIST || name === RECORDING_PLAYLIST) return { kind: 'media-playlist', sessionId, rendition, recording: name === RECORDING_PLAYLIST };
  if (INIT.test(name)) return { kind: 'init', sessionId, rendition };
  const segment = SEGMENT.exec(name);
  if (segment) return { kind: 'segment', sessionId, rendition, msn: Number(segment[1]) };
  const part = PART.exec(name);
  if (part) return { kind: 'part', sessionId, rendition, msn: Number(part[1]), part: Number(part[2]) };
  return undefined;
}

/**
 * The stream, and the session if one is named, that a request URL under /hls/ is about: what
 * decides which node answers it. Undefined for anything else.
 */
export function hlsUrlIds(url: string): { playbackId: string; sessionId: string | undefined } | undefined {
  if (!url.startsWith('/hls/')) return undefined;
  const [playbackId = '', first, sessionId] = url.slice('/hls/'.length).split(/[/?]/, 3);
  if (!PLAYBACK_ID_PATTERN.test(playbackId)) return undefined;
  return { playbackId, sessionId: first === SESSIONS && sessionId !== undefined && ID_PATTERN.test(sessionId) ? sessionId : undefined };
}
