/** Must match VIEWER_SESSION_PARAM in src/viewers/viewer-session.ts: the origin counts viewers by it. */
const VIEWER_SESSION_PARAM = 'vsid';

/** One id per page load: the player is one viewer, however often it restarts. */
export function newViewerSessionId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The master URL with the id. The origin copies it into the URIs of the master it returns, so the
 * media playlist requests carry it too (with hls.js and with a native player alike), and a player
 * counted by its playlist requests and by its presence reports is one viewer.
 */
export function withViewerSession(url: string, sessionId: string): string {
  const withId = new URL(url, location.href);
  withId.searchParams.set(VIEWER_SESSION_PARAM, sessionId);
  return withId.toString();
}

/**
 * Says to the origin that this player is watching (POST /hls/<playbackId>/viewers?vsid=…, next to
 * the stream's master): the origin counts it for a while after each. A cache in front answers the
 * player's playlist requests for everyone (its key leaves the id out), so without these reports
 * the origin would not see most viewers.
 */
export function reportPresence(hlsUrl: string, sessionId: string): void {
  const master = new URL(hlsUrl, location.href);
  const url = new URL('viewers', master);
  url.searchParams.set(VIEWER_SESSION_PARAM, sessionId);
  // A private stream's token (the status's URLs carry it) opens this too.
  const token = master.searchParams.get('token');
  if (token) url.searchParams.set('token', token);
  fetch(url, { method: 'POST', keepalive: true }).catch(() => undefined);
}
