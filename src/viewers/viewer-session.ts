import { mapPlaylistUris } from '../packaging/playlist-uris';

/**
 * The query parameter that carries a player session id on playlist requests. The player makes one
 * per page load; it must match player/src/viewer-session.ts.
 */
export const VIEWER_SESSION_PARAM = 'vsid';

const SESSION_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** A session id a client sent, if it has the expected shape; anything else is ignored. */
export function viewerSessionId(value: unknown): string | undefined {
  return typeof value === 'string' && SESSION_ID.test(value) ? value : undefined;
}

/**
 * The master playlist with the session id added to every URI it names. A player resolves relative
 * URIs without the master's query string, so this is how a native HLS player (Safari), which lets
 * no code touch its requests, still sends the id with every media playlist request. Segment URIs
 * (in media playlists) are left alone: they stay the same for every viewer, so caches can share them.
 */
export function withViewerSession(master: string, sessionId: string): string {
  const suffix = `${VIEWER_SESSION_PARAM}=${encodeURIComponent(sessionId)}`;
  return mapPlaylistUris(master, (uri) => `${uri}${uri.includes('?') ? '&' : '?'}${suffix}`);
}
