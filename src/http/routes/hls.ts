import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { LIVE_PLAYLIST, RECORDING_PLAYLIST, type MediaLayout } from '../../hls/media-layout';
import { hasEndList } from '../../hls/media-playlist';
import { playlistUris } from '../../hls/playlist-uris';
import type { Posters } from '../../hls/posters';
import type { Logger } from '../../observability/logger';
import { ID_PATTERN, PLAYBACK_ID_PATTERN } from '../../streams/keys';
import type { ViewerCounter } from '../../viewers/viewer-counter';
import { VIEWER_SESSION_PARAM, viewerSessionId, withViewerSession } from '../../viewers/viewer-session';
import { clientAddress } from '../client-address';
import type { Cors } from '../cors';
import { errorBody, type ErrorCode } from '../errors';
import { fileKey, type CachedFile, type FileCache } from '../file-cache';
import { BASELINE_HEADERS } from '../security-headers';
import { headerPairs, headerValue, sendRepresentation, type OpenedFile } from '../static-file';

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

export interface HlsHandlerDeps {
  layout: MediaLayout;
  /**
   * A live stream's poster is made when asked for. A delivery process (src/http/delivery-process.ts)
   * has none: poster requests are left to its caller, which forwards them to the origin.
   */
  posters?: Pick<Posters, 'refresh'>;
  files: FileCache;
  viewers: Pick<ViewerCounter, 'seen'>;
  cors: Cors;
  /** Every answer, by kind of file (playlist, segment, poster, other): the HLS metrics. */
  answered: (kind: string, status: number, bytes: number) => void;
  logger: Logger;
  /** From requestIds() (src/http/app.ts), shared with the rest of the HTTP server. */
  requestId: (incoming: string | undefined) => string;
  /** Behind a reverse proxy: viewers' addresses come from X-Forwarded-For, as for Koa. */
  trustProxy: boolean;
}

function kindOf(requestPath: string): string {
  const extension = path.extname(requestPath);
  if (extension === '.m3u8') return 'playlist';
  if (extension === '.jpg') return 'poster';
  return Object.hasOwn(SEGMENT_TYPES, extension) ? 'segment' : 'other';
}

interface HlsRequest {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: string;
  requestId: string;
  /** Headers of every answer, [name, value, …]: request id, baseline, CORS. */
  headers: string[];
}

/**
 * Serves a stream's HLS files by playback id: every request under /hls/. Anything that is not
 * plainly one of the files the origin writes for that stream is a 404, and the real path of what
 * is served must be inside the stream's folder. Live media playlist requests are what viewers are
 * counted from.
 *
 * This is the one part of the HTTP server that runs without Koa: viewers' players reload a live
 * playlist every couple of seconds each, and Koa's context, router and middleware cost ~70 µs per
 * request, five times the work of answering from the file cache (docs/benchmarks.md, serving).
 * Returns false for a request that is not under /hls/, for Koa to answer (and, without posters, for a poster).
 */
export function hlsHandler(deps: HlsHandlerDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const routeOf = routes(deps.layout);
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith('/hls/')) return false;
    const queryAt = url.indexOf('?');
    const requestPath = queryAt === -1 ? url : url.slice(0, queryAt);
    if (!deps.posters && requestPath.endsWith('/poster.jpg')) return false;
    const debug = deps.logger.isLevelEnabled('debug');
    const started = debug ? performance.now() : 0;
    const requestId = deps.requestId(headerValue(req, 'x-request-id'));
    const request: HlsRequest = {
      req,
      res,
      path: requestPath,
      query: queryAt === -1 ? '' : url.slice(queryAt + 1),
      requestId,
      headers: ['X-Request-Id', requestId, ...BASELINE_PAIRS],
    };
    const route = routeOf(requestPath);
    const finish = (sent: Sent) => {
      deps.answered(route?.kind ?? kindOf(requestPath), sent.status, sent.bytes);
      if (debug) deps.logger.debug({ requestId, method: req.method, path: requestPath, status: sent.status, ms: Math.round(performance.now() - started) }, 'request');
    };
    const fail = (error: unknown) => {
      deps.logger.error({ err: error, method: req.method, path: requestPath }, 'request failed');
      if (res.headersSent) return res.destroy();
      finish(sendError(request, 500, 'internal_error', 'Internal server error.'));
    };
    let sent: Sent | Promise<Sent>;
    try {
      sent = serve(deps, request, route);
    } catch (error) {
      sent = Promise.reject(error);
    }
    if (sent instanceof Promise) sent.then(finish, fail);
    else finish(sent);
    return true;
  };
}

const BASELINE_PAIRS = headerPairs(BASELINE_HEADERS);

/** One of the stream's files, as a request path names it. */
interface Route {
  playbackId: string;
  file: HlsFile;
  /** The stream's folder, and the file's path inside it. */
  root: string;
  parts: readonly string[];
  /** The file cache's name for it. */
  key: string;
  /** For the HLS metrics. */
  kind: string;
}

/** Request paths remembered; past this many the memory starts again, so that made-up paths cannot grow it. */
const MAX_ROUTES = 10_000;

/**
 * What a request path names, worked out once per path: players ask for the same few paths over
 * and over, and splitting, checking and joining each one again was the largest part of the
 * handler's own time (docs/benchmarks.md, serving). Only paths of files we write are remembered.
 */
function routes(layout: MediaLayout): (requestPath: string) => Route | undefined {
  const known = new Map<string, Route>();
  return (requestPath) => {
    const remembered = known.get(requestPath);
    if (remembered) return remembered;
    const [playbackId = '', ...parts] = requestPath.slice('/hls/'.length).split('/');
    const file = PLAYBACK_ID_PATTERN.test(playbackId) ? classify(parts) : undefined;
    if (!file) return undefined;
    const root = layout.streamDir(playbackId);
    const route = { playbackId, file, root, parts, key: fileKey(root, parts), kind: kindOf(requestPath) };
    if (known.size >= MAX_ROUTES) known.clear();
    known.set(requestPath, route);
    return route;
  };
}

type Sent = { status: number; bytes: number };

/**
 * Live media playlists and segments are nearly every request: when the file is in memory, the
 * answer goes out in the same tick, without promises (with flat header lists, a fifth of the
 * handler's own time per playlist, docs/benchmarks.md). Everything else, and anything not in
 * memory, goes through the disk.
 */
function serve(deps: HlsHandlerDeps, request: HlsRequest, route: Route | undefined): Sent | Promise<Sent> {
  const { req, res } = request;
  const origin = headerValue(req, 'origin');
  if (req.method === 'OPTIONS') {
    res.writeHead(204, [...request.headers, ...headerPairs(deps.cors.preflightHeaders(origin))]);
    res.end();
    return { status: 204, bytes: 0 };
  }
  request.headers.push(...headerPairs(deps.cors.answerHeaders(origin)));
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    request.headers.push('Allow', 'GET, HEAD, OPTIONS');
    return sendError(request, 405, 'method_not_allowed', `${req.method} is not allowed here.`);
  }
  if (!route) return sendError(request, 404, 'not_found', 'Not found');
  const { file } = route;
  if (file.kind === 'media-playlist' || file.kind === 'segment') {
    const cached = deps.files.cached(route.key);
    if (cached) return file.kind === 'segment' ? sendFile(request, file, cached) : sendMediaPlaylist(deps, request, route.playbackId, playlistOf(cached.bytes), cached.mtime);
  }
  return serveFromDisk(deps, request, route.playbackId, file, route.root, route.parts);
}

async function serveFromDisk(deps: HlsHandlerDeps, request: HlsRequest, playbackId: string, file: HlsFile, root: string, parts: readonly string[]): Promise<Sent> {
  if (file.kind === 'poster') await deps.posters?.refresh(playbackId);
  const found = await deps.files.read(root, parts);
  if (!found) return sendError(request, 404, 'not_found', 'Not found');
  if (file.kind === 'segment' || file.kind === 'poster') return sendFile(request, file, found);

  const playlist = playlistOf(await bytesOf(found));
  if (file.kind === 'media-playlist') return sendMediaPlaylist(deps, request, playbackId, playlist, found.mtime);
  let body = playlist.bytes;
  let etag = playlist.etag;
  const ended = file.kind === 'session-master' && (await variantsEnded(deps.files, path.join(root, 'sessions', file.sessionId), playlist.text));
  const sessionId = viewerSessionOf(request);
  if (sessionId) {
    body = Buffer.from(withViewerSession(playlist.text, sessionId));
    // Each viewer's rewritten master has its own tag.
    etag = digestOf(body);
  }
  return sendPlaylist(request, body, etag, ended ? CACHE.ended : CACHE.master, found.mtime);
}

function sendFile(request: HlsRequest, file: HlsFile & { kind: 'segment' | 'poster' }, found: CachedFile | OpenedFile): Sent {
  const [contentType, cacheControl] = file.kind === 'segment' ? [file.contentType, CACHE.segment] : ['image/jpeg', CACHE.poster];
  const { size, etag, mtime } = found;
  return sendRepresentation(request.req, request.res, request.headers, { contentType, cacheControl, size, etag, lastModified: mtime, body: 'bytes' in found ? found.bytes : found.handle });
}

/** A live media playlist counts its reader as a viewer. */
function sendMediaPlaylist(deps: HlsHandlerDeps, request: HlsRequest, playbackId: string, playlist: Playlist, mtime: Date): Sent {
  const { req } = request;
  if (!playlist.ended && req.method === 'GET') deps.viewers.seen(playbackId, viewerId(req, viewerSessionOf(request), deps.trustProxy));
  return sendPlaylist(request, playlist.bytes, playlist.etag, playlist.ended ? CACHE.ended : CACHE.livePlaylist, mtime);
}

function sendPlaylist(request: HlsRequest, body: Buffer, etag: string, cacheControl: string, mtime: Date): Sent {
  return sendRepresentation(request.req, request.res, request.headers, {
    contentType: PLAYLIST_TYPE,
    cacheControl,
    size: body.length,
    etag,
    ...(cacheControl === CACHE.ended && { lastModified: mtime }),
    body,
  });
}

function viewerSessionOf(request: HlsRequest): string | undefined {
  return request.query ? viewerSessionId(new URLSearchParams(request.query).get(VIEWER_SESSION_PARAM) ?? undefined) : undefined;
}

function sendError(request: HlsRequest, status: number, code: ErrorCode, message: string): Sent {
  const body = Buffer.from(JSON.stringify(errorBody(code, message)));
  request.res.writeHead(status, [...request.headers, 'Cache-Control', 'no-store', 'Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(body.length)]);
  request.res.end(request.req.method === 'HEAD' ? undefined : body);
  return { status, bytes: 0 };
}

interface Playlist {
  bytes: Buffer;
  text: string;
  ended: boolean;
  /** From the content: a playlist rewritten with the same text keeps its tag. */
  etag: string;
}

/** A cached file's bytes are shared: what a playlist says is worked out once per version. */
const playlists = new WeakMap<Buffer, Playlist>();

function playlistOf(bytes: Buffer): Playlist {
  let playlist = playlists.get(bytes);
  if (!playlist) {
    const text = bytes.toString('utf8');
    playlist = { bytes, text, ended: hasEndList(text), etag: digestOf(bytes) };
    playlists.set(bytes, playlist);
  }
  return playlist;
}

function digestOf(body: Buffer): string {
  return `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
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
function viewerId(req: IncomingMessage, sessionId: string | undefined, trustProxy: boolean): string {
  if (sessionId) return `s:${sessionId}`;
  const apple = viewerSessionId(headerValue(req, 'x-playback-session-id'));
  return apple ? `a:${apple}` : `ip:${clientAddress(req, trustProxy)}`;
}

/** A session master is final once every playlist it names has ended. */
async function variantsEnded(files: FileCache, sessionDir: string, master: string): Promise<boolean> {
  const uris = playlistUris(master).map((uri) => uri.split('/'));
  if (uris.length === 0) return false;
  for (const parts of uris) {
    const found = safe(parts) ? await files.read(sessionDir, parts) : undefined;
    if (!found || !playlistOf(await bytesOf(found)).ended) return false;
  }
  return true;
}
