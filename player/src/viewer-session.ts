/** Must match VIEWER_SESSION_PARAM in src/viewers/viewer-session.ts: the origin counts viewers by it. */
const VIEWER_SESSION_PARAM = 'vsid';

/** One id per page load: every playlist request of this player carries it, however often it restarts. */
export function newViewerSessionId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The master URL with the id. The origin copies it into the URIs of the master it returns, so the
 * media playlist requests carry it too, with hls.js and with a native player alike; segment URLs
 * stay shared by every viewer.
 */
export function withViewerSession(url: string, sessionId: string): string {
  const withId = new URL(url, location.href);
  withId.searchParams.set(VIEWER_SESSION_PARAM, sessionId);
  return withId.toString();
}
