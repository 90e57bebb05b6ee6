import crypto from 'node:crypto';
import path from 'node:path';
import Router from '@koa/router';
import { LIVE_PLAYLIST, RECORDING_PLAYLIST, type MediaLayout } from '../../hls/media-layout';
import { hasEndList } from '../../hls/media-playlist';
import { playlistUris } from '../../hls/playlist-uris';
import { ID_PATTERN, PLAYBACK_ID_PATTERN } from '../../streams/keys';
import type { Metrics } from '../../observability/metrics';
import type { ViewerCounter } from '../../viewers/viewer-counter';
import { VIEWER_SESSION_PARAM, viewerSessionId, withViewerSession } from '../../viewers/viewer-session';
import type { AppContext, AppState } from '../context';
import type { Cors } from '../cors';
import { notFound } from '../errors';
import type { CachedFile, FileCache } from '../file-cache';
import { sendRepresentation, type OpenedFile } from '../static-file';

/** A path part we may have written: no leading dot, no separators, nothing encoded. */
const SAFE_PART = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

const SEGMENT_TYPES: Record<string, string> = {
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
};
const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

/**
 * Cache lifetimes (docs/delivery.md has the table). A segment URL names one session's one segment
 * and is never rewritten. A live media playlist changes every segment: a second at most, so a cache
 * in front refreshes it and a player never sees one much older than the origin's. The stream master
 * changes only when a new session starts. Ended playlists no longer change.
 */
const CACHE = {
  segment: 'public, max-age=31536000, immutable',
  livePlaylist: 'public, max-age=1',
  master: 'public, max-age=2',
  ended: 'public, max-age=86400',
  poster: 'public, max-age=5',
} as const;

/** The files of the layout (src/hls/media-layout.ts) that are served; nothing else is. */
type HlsFile =
  | { kind: 'stream-master' }
  | { kind: 'poster' }
  | { kind: 'session-master'; sessionId: string }
  | { kind: 'media-playlist' }
  | { kind: 'segment'; contentType: string };

const safe = (parts: readonly string[]) => parts.every((part) => SAFE_PART.test(part) && !part.includes('..'));

function classify(parts: readonly string[]): HlsFile | undefined {
  if (!safe(parts)) return undefined;
  const [first, sessionId, rendition, name] = parts;
  if (parts.length === 1) {
    if (first === 'master.m3u8') return { kind: 'stream-master' };
    if (first === 'poster.jpg') return { kind: 'poster' };
    return undefined;
  }
  if (first !== 'sessions' || sessionId === undefined || !ID_PATTERN.test(sessionId)) return undefined;
  if (parts.length === 3 && rendition === 'master.m3u8') return { kind: 'session-master', sessionId };
  if (parts.length !== 4 || name === undefined) return undefined;
  if (name === LIVE_PLAYLIST || name === RECORDING_PLAYLIST) return { kind: 'media-playlist' };
  const contentType = SEGMENT_TYPES[path.extname(name)];
  return contentType ? { kind: 'segment', contentType } : undefined;
}

export interface HlsRouteDeps {
  layout: MediaLayout;
  files: FileCache;
  viewers: ViewerCounter;
  cors: Cors;
  metrics: Metrics;
}

function kindOf(path: string): string {
  if (path.endsWith('.m3u8')) return 'playlist';
  if (path.endsWith('.jpg')) return 'poster';
  return Object.keys(SEGMENT_TYPES).some((extension) => path.endsWith(extension)) ? 'segment' : 'other';
}

/**
 * Serves a stream's HLS files by playback id. Anything that is not plainly one of the files the
 * origin writes for that stream is a 404, and the real path of what is served must be inside the
 * stream's folder. Live media playlist requests are what viewers are counted from.
 */
export function hlsRoutes(deps: HlsRouteDeps): Router<AppState> {
  const router = new Router<AppState>();
  const route = '/hls/:playbackId/*rest';
  router.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      const kind = kindOf(ctx.path);
      deps.metrics.hlsRequests.inc({ kind, status: String(ctx.status) });
      if (ctx.method === 'GET' && ctx.length) deps.metrics.hlsBytes.inc({ kind }, ctx.length);
    }
  });
  router.use(deps.cors.headers);
  router.options(route, deps.cors.preflight);
  router.get(route, async (ctx) => {
    const playbackId = ctx.params.playbackId ?? '';
    const parts = (ctx.params.rest ?? '').split('/');
    const file = PLAYBACK_ID_PATTERN.test(playbackId) ? classify(parts) : undefined;
    if (!file) throw notFound();
    const root = deps.layout.streamDir(playbackId);
    const found = await deps.files.read(root, parts);
    if (!found) throw notFound();

    if (file.kind === 'segment' || file.kind === 'poster') {
      const [contentType, cacheControl] = file.kind === 'segment' ? [file.contentType, CACHE.segment] : ['image/jpeg', CACHE.poster];
      const { size, etag, mtime } = found;
      return sendRepresentation(ctx, { contentType, cacheControl, size, etag, lastModified: mtime, body: 'bytes' in found ? found.bytes : found.handle });
    }

    const read = await bytesOf(found);
    const text = read.toString('utf8');
    let body = read;
    const sessionId = viewerSessionId(ctx.query[VIEWER_SESSION_PARAM]);
    let cacheControl: string;
    if (file.kind === 'media-playlist') {
      const ended = hasEndList(text);
      cacheControl = ended ? CACHE.ended : CACHE.livePlaylist;
      if (!ended && ctx.method === 'GET') deps.viewers.seen(playbackId, viewerId(ctx, sessionId));
    } else {
      const ended = file.kind === 'session-master' && (await variantsEnded(deps.files, path.join(root, 'sessions', file.sessionId), text));
      cacheControl = ended ? CACHE.ended : CACHE.master;
      if (sessionId) body = Buffer.from(withViewerSession(text, sessionId));
    }
    sendRepresentation(ctx, {
      contentType: PLAYLIST_TYPE,
      cacheControl,
      size: body.length,
      // From the content: a playlist rewritten with the same text keeps its tag, and each viewer's
      // rewritten master has its own.
      etag: digestOf(body),
      ...(cacheControl === CACHE.ended && { lastModified: found.mtime }),
      body,
    });
  });
  return router;
}

/** A cached file's bytes are shared: their digest is worked out once. */
const digests = new WeakMap<Buffer, string>();

function digestOf(body: Buffer): string {
  let digest = digests.get(body);
  if (!digest) {
    digest = `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    digests.set(body, digest);
  }
  return digest;
}

async function bytesOf(found: CachedFile | OpenedFile): Promise<Buffer> {
  if ('bytes' in found) return found.bytes;
  try {
    return await found.handle.readFile();
  } finally {
    await found.handle.close();
  }
}

/**
 * One viewer per player session: the id the player sends (our player, and any player given a
 * master URL with it), else the one Apple's native players send in a header, else the client
 * address, which counts every id-less player behind one address (a NAT, a proxy) as one.
 */
function viewerId(ctx: AppContext, sessionId: string | undefined): string {
  if (sessionId) return `s:${sessionId}`;
  const apple = viewerSessionId(ctx.get('X-Playback-Session-Id'));
  return apple ? `a:${apple}` : `ip:${ctx.ip}`;
}

/** A session master is final once every playlist it names has ended. */
async function variantsEnded(files: FileCache, sessionDir: string, master: string): Promise<boolean> {
  const uris = playlistUris(master).map((uri) => uri.split('/'));
  if (uris.length === 0) return false;
  for (const parts of uris) {
    const found = safe(parts) ? await files.read(sessionDir, parts) : undefined;
    if (!found || !hasEndList((await bytesOf(found)).toString('utf8'))) return false;
  }
  return true;
}
