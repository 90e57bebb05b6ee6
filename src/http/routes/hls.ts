import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Catalog, LiveEntry } from '../../packaging/catalog';
import { classifyHlsPath, safePathParts, segmentName, type HlsFile, type MediaLayout } from '../../packaging/media-layout';
import { hasEndList } from '../../packaging/media-playlist';
import { playlistUris } from '../../packaging/playlist-uris';
import type { Posters } from '../../packaging/posters';
import type { Timeline } from '../../packaging/timeline';
import type { Logger } from '../../observability/logger';
import { tokenOf, type Access, type PlaybackAccess } from '../../playback/playback-access';
import { withPlaybackToken } from '../../playback/playback-uris';
import { PLAYBACK_ID_PATTERN } from '../../streams/keys';
import type { ViewerCounter } from '../../viewers/viewer-counter';
import { VIEWER_SESSION_PARAM, viewerSessionId, withViewerSession } from '../../viewers/viewer-session';
import { clientAddress } from '../client-address';
import type { Cors } from '../cors';
import { errorBody, type ErrorCode } from '../errors';
import { fileKey, type CachedFile, type FileCache } from '../file-cache';
import type { HeldRequests } from '../held-requests';
import { blocking, livePlaylist, parseDirectives, partState, satisfied, type RenderedPlaylist } from '../live-playlists';
import { BASELINE_HEADERS } from '../security-headers';
import { digestEtag, headerPairs, headerValue, sendRepresentation, type OpenedFile } from '../static-file';

const CONTENT_TYPES: Record<string, string> = {
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.jpg': 'image/jpeg',
};
const PLAYLIST_TYPE = CONTENT_TYPES['.m3u8']!;

/**
 * Cache lifetimes (docs/delivery.md has the table). Segment, part and init URLs name one session's
 * one piece of media and never change. A live media playlist changes every part: a second at most
 * for a request without directives; an answer to a blocking request (its URL names the part it
 * waited for) stays a valid answer to that URL, so caches may keep it for a few seconds. The
 * stream master changes only when a new session starts. Ended playlists no longer change.
 */
const CACHE = {
  media: 'public, max-age=31536000, immutable',
  livePlaylist: 'public, max-age=1',
  blockingPlaylist: 'public, max-age=6',
  master: 'public, max-age=2',
  ended: 'public, max-age=86400',
  poster: 'public, max-age=5',
} as const;

/** A blocking request is answered within three target durations, or with 503 (RFC 8216bis 6.2.5.2). */
const HOLD_TARGET_DURATIONS = 3;

export interface HlsHandlerDeps {
  layout: MediaLayout;
  /** The live sessions' structure: what live playlists and parts are answered from. */
  catalog: Catalog;
  held: HeldRequests;
  /**
   * A live stream's poster is made when asked for. A delivery process (src/http/delivery-process.ts)
   * has none: poster requests are left to its caller, which forwards them to the origin.
   */
  posters?: Pick<Posters, 'refresh'>;
  files: FileCache;
  viewers: Pick<ViewerCounter, 'seen'>;
  /** Who may have a signed stream's resources. */
  access: Pick<PlaybackAccess, 'check'>;
  now: () => number;
  cors: Cors;
  /** Every answer, by kind of file (playlist, segment, part, poster, other): the HLS metrics. */
  answered: (kind: string, status: number, bytes: number) => void;
  logger: Logger;
  /** From requestIds() (src/http/app.ts), shared with the rest of the HTTP server. */
  requestId: (incoming: string | undefined) => string;
  /** Behind a reverse proxy: viewers' addresses come from X-Forwarded-For, as for Koa. */
  trustProxy: boolean;
}

interface HlsRequest {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: string;
  requestId: string;
  /** Headers of every answer, [name, value, …]: request id, baseline, CORS. */
  headers: string[];
  /** A signed stream's token (written into every URI handed out) and the viewer it counts as. */
  signed?: { token: string; viewer: string };
}

/** One of the stream's files, as a request path names it. */
interface Route {
  playbackId: string;
  file: HlsFile;
  /** The stream's folder, and the file's path inside it. */
  root: string;
  parts: readonly string[];
  /** The file cache's name for it. */
  key: string;
  contentType: string;
  /** For the HLS metrics. */
  kind: string;
}

type Sent = { status: number; bytes: number };

/**
 * Serves a stream's HLS by playback id: every request under /hls/. Live media playlists and parts
 * come from the catalog (the packager's structure), held when they ask for what is about to exist;
 * segments, init segments, ended playlists and masters come from the disk. Anything that is not
 * plainly one of the stream's resources is a 404, and the real path of a file served must be
 * inside the stream's folder. Live media playlist requests are what viewers are counted from.
 *
 * This is the one part of the HTTP server that runs without Koa: every viewer's player asks for a
 * playlist and a part several times a second, and Koa's context, router and middleware cost several
 * times the work of the answer (docs/decisions.md). Returns false for a request that is not under
 * /hls/, for Koa to answer (and, without posters, for a poster).
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

/**
 * A cache in front that keeps one copy of each playlist for every viewer asks, with this header,
 * for a placeholder in place of the token, and writes each viewer's own token over it as it answers
 * (deploy/nginx/live-origin.conf). The request itself must still carry a valid token.
 */
const TOKEN_PLACEHOLDER_HEADER = 'x-playback-token-placeholder';
const PLACEHOLDER = /^[A-Za-z0-9_-]{8,64}$/;

function tokenInUris(req: IncomingMessage, access: Extract<Access, { token: string }>): string {
  const placeholder = headerValue(req, TOKEN_PLACEHOLDER_HEADER);
  return placeholder !== undefined && PLACEHOLDER.test(placeholder) ? placeholder : access.token;
}

/** For the HLS metrics: what a request asked for, by the resource it names, else by its extension. */
function kindOf(requestPath: string, file?: HlsFile): string {
  switch (file?.kind) {
    case 'stream-master':
    case 'session-master':
    case 'media-playlist':
      return 'playlist';
    case 'part':
    case 'poster':
      return file.kind;
    case 'segment':
    case 'init':
      return 'segment';
  }
  const extension = path.extname(requestPath);
  if (extension === '.m3u8') return 'playlist';
  if (extension === '.jpg') return 'poster';
  return extension === '.m4s' || extension === '.mp4' ? 'segment' : 'other';
}

/** Request paths remembered; past this many the memory starts again, so that made-up paths cannot grow it. */
const MAX_ROUTES = 10_000;

/**
 * What a request path names, worked out once per path: players ask for the same few paths over
 * and over (docs/decisions.md). Only paths of the stream's resources are remembered.
 */
function routes(layout: MediaLayout): (requestPath: string) => Route | undefined {
  const known = new Map<string, Route>();
  return (requestPath) => {
    const remembered = known.get(requestPath);
    if (remembered) return remembered;
    const [playbackId = '', ...parts] = requestPath.slice('/hls/'.length).split('/');
    const file = PLAYBACK_ID_PATTERN.test(playbackId) ? classifyHlsPath(parts) : undefined;
    if (!file) return undefined;
    const root = layout.streamDir(playbackId);
    const contentType = CONTENT_TYPES[path.extname(requestPath)] ?? 'application/octet-stream';
    const route = { playbackId, file, root, parts, key: fileKey(root, parts), contentType, kind: kindOf(requestPath, file) };
    if (known.size >= MAX_ROUTES) known.clear();
    known.set(requestPath, route);
    return route;
  };
}

/**
 * The common answers (a live playlist already rendered, a part or segment in memory) go out in
 * the same tick, without promises; everything else goes through the disk or waits.
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
  if (route) {
    const access = deps.access.check(route.playbackId, tokenOf(request.query), origin, deps.now());
    if (!access.allowed) return sendError(request, 403, access.code, access.message);
    if (access.token !== undefined) request.signed = { token: tokenInUris(req, access), viewer: access.viewer };
  }
  if (route?.file.kind === 'presence') return presence(deps, request, route);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    request.headers.push('Allow', 'GET, HEAD, OPTIONS');
    return sendError(request, 405, 'method_not_allowed', `${req.method} is not allowed here.`);
  }
  if (!route) return sendError(request, 404, 'not_found', 'Not found');
  const { file } = route;
  if (file.kind === 'media-playlist' || file.kind === 'part' || file.kind === 'segment') {
    const entry = deps.catalog.get(route.playbackId, file.sessionId);
    const timeline = entry?.timelines.get(file.rendition);
    if (entry && timeline) {
      if (file.kind === 'media-playlist' && !file.recording) return serveLivePlaylist(deps, request, route, entry, file.rendition);
      if (file.kind === 'part') return servePart(deps, request, route, entry, file);
      // A segment is served once it is complete; it is listed only then. A gap has no media.
      const listed = file.kind === 'segment' ? timeline.segment(file.msn) : undefined;
      if (listed && (listed.duration === undefined || listed.gap)) return sendError(request, 404, 'not_found', 'Not found');
    } else if (file.kind === 'part') {
      return sendError(request, 404, 'not_found', 'Not found');
    }
  }
  if (file.kind === 'segment' || file.kind === 'init' || file.kind === 'media-playlist') {
    const cached = deps.files.cached(route.key);
    if (cached) return file.kind === 'media-playlist' ? sendStoredPlaylist(deps, request, route, playlistOf(cached.bytes), cached.mtime) : sendMedia(request, route, cached);
  }
  return serveFromDisk(deps, request, route);
}

/**
 * A player watching the stream says so every few seconds: it is counted as a viewer (by its session
 * id) while the stream is live here. Playlists, parts and segments can then be the same for every
 * viewer, and a cache in front can answer them all without hiding anyone.
 */
function presence(deps: HlsHandlerDeps, request: HlsRequest, route: Route): Sent {
  const { req, res } = request;
  if (req.method !== 'POST') {
    request.headers.push('Allow', 'POST, OPTIONS');
    return sendError(request, 405, 'method_not_allowed', `${req.method} is not allowed here.`);
  }
  if (!deps.catalog.get(route.playbackId)) return sendError(request, 404, 'not_found', 'This stream is not live.');
  deps.viewers.seen(route.playbackId, viewerOf(deps, request));
  req.resume();
  res.writeHead(204, [...request.headers, 'Cache-Control', 'no-store']);
  res.end();
  return { status: 204, bytes: 0 };
}

/**
 * A live media playlist, from the catalog. With delivery directives (low latency) a request for
 * what is not there yet is held until it is; a malformed or too-far request is refused (400).
 */
function serveLivePlaylist(deps: HlsHandlerDeps, request: HlsRequest, route: Route, entry: LiveEntry, rendition: string): Sent | Promise<Sent> {
  const { req } = request;
  if (req.method === 'GET') deps.viewers.seen(route.playbackId, viewerOf(deps, request));
  const parsed = parseDirectives(request.query);
  if (!parsed.ok) return sendError(request, 400, 'bad_request', parsed.message);
  const low = entry.info.mode === 'low';
  const directives = low ? parsed.directives : { skip: false };
  const timeline = entry.timelines.get(rendition)!;
  const answer = (current: LiveEntry) => sendLivePlaylist(request, livePlaylist(current, rendition, directives.skip)!, directives.msn !== undefined);
  const decision = blocking(timeline, directives, entry.info.partTarget);
  if (decision.kind === 'refuse') return sendError(request, 400, 'bad_request', decision.message);
  if (decision.kind === 'now') return answer(entry);
  const { msn, part } = directives;
  return holdFor(
    deps,
    request,
    entry,
    rendition,
    (current) => satisfied(current.timelines.get(rendition)!, msn!, part),
    (outcome): Sent | Promise<Sent> => {
      if (outcome === 'timeout') return sendError(request, 503, 'service_unavailable', `Segment ${msn}${part !== undefined ? ` part ${part}` : ''} did not appear in time.`);
      const current = deps.catalog.get(route.playbackId, entry.info.sessionId);
      // The session ended meanwhile: its final playlist is on disk.
      return current ? answer(current) : serveFromDisk(deps, request, route);
    },
  );
}

/**
 * Holds a request until `ready` holds for its rendition, for three target durations at most. A
 * client that left, or a full house (503 at once), is answered here; `then` answers the rest.
 */
function holdFor(
  deps: HlsHandlerDeps,
  request: HlsRequest,
  entry: LiveEntry,
  rendition: string,
  ready: (current: LiveEntry) => boolean,
  then: (outcome: 'ready' | 'gone' | 'timeout') => Sent | Promise<Sent>,
): Promise<Sent> {
  const timeoutMs = HOLD_TARGET_DURATIONS * entry.timelines.get(rendition)!.targetDuration * 1000;
  return deps.held
    .hold(entry, rendition, ready, timeoutMs, (listener) => request.res.once('close', listener))
    .then((outcome) => {
      if (outcome === 'closed') return { status: 499, bytes: 0 };
      if (outcome === 'full') return sendError(request, 503, 'service_unavailable', 'Too many requests are waiting; try again.');
      return then(outcome);
    });
}

function sendLivePlaylist(request: HlsRequest, rendered: RenderedPlaylist, blocked: boolean): Sent {
  const playlist = request.signed ? tokenised(rendered.body, request.signed.token) : rendered;
  return sendRepresentation(request.req, request.res, request.headers, {
    contentType: PLAYLIST_TYPE,
    cacheControl: blocked ? CACHE.blockingPlaylist : CACHE.livePlaylist,
    size: playlist.body.length,
    etag: playlist.etag,
    body: playlist.body,
  });
}

/** A part of a live segment: its bytes from memory or from the segment's file; the next parts are waited for. */
function servePart(deps: HlsHandlerDeps, request: HlsRequest, route: Route, entry: LiveEntry, file: Extract<HlsFile, { kind: 'part' }>): Sent | Promise<Sent> {
  const timeline = entry.timelines.get(file.rendition)!;
  const state = partState(timeline, file.msn, file.part, entry.info.partTarget);
  if (state === 'present') return sendPart(deps, request, route, entry, timeline, file);
  if (state === 'absent') return sendError(request, 404, 'not_found', 'Not found');
  return holdFor(
    deps,
    request,
    entry,
    file.rendition,
    (current) => partState(current.timelines.get(file.rendition)!, file.msn, file.part, entry.info.partTarget) !== 'coming',
    (outcome) => {
      const current = deps.catalog.get(route.playbackId, entry.info.sessionId);
      const currentTimeline = current?.timelines.get(file.rendition);
      if (outcome !== 'ready' || !current || !currentTimeline || partState(currentTimeline, file.msn, file.part, current.info.partTarget) !== 'present') {
        return sendError(request, 404, 'not_found', 'Not found');
      }
      return sendPart(deps, request, route, current, currentTimeline, file);
    },
  );
}

function sendPart(deps: HlsHandlerDeps, request: HlsRequest, route: Route, entry: LiveEntry, timeline: Timeline, file: Extract<HlsFile, { kind: 'part' }>): Sent {
  const info = timeline.segment(file.msn)!.parts.find((p) => p.index === file.part)!;
  const bytes = entry.partBytes(file.rendition, file.msn, file.part) ?? readPart(deps, route, file.sessionId, file.rendition, file.msn, info.offset, info.length);
  if (!bytes) return sendError(request, 404, 'not_found', 'Not found');
  return sendRepresentation(request.req, request.res, request.headers, {
    contentType: route.contentType,
    cacheControl: CACHE.media,
    size: bytes.length,
    etag: `"${file.sessionId}-${file.rendition}-${file.msn}.${file.part}"`,
    body: bytes,
  });
}

/** Parts read from their segment's file, kept for the other viewers who ask next: a part is asked for by all of them at once. */
const partReads = new Map<string, Buffer>();
const MAX_PART_READS = 512;

function readPart(deps: HlsHandlerDeps, route: Route, sessionId: string, rendition: string, msn: number, offset: number, length: number): Buffer | undefined {
  // The part's own path names it: one read per part and process.
  const key = route.key;
  const known = partReads.get(key);
  if (known) return known;
  const file = path.join(deps.layout.renditionDir(route.playbackId, sessionId, rendition), segmentName(msn));
  // A complete segment may already be in the file cache whole.
  const whole = deps.files.cached(fileKey(route.root, [...route.parts.slice(0, -1), segmentName(msn)]));
  let bytes: Buffer | undefined = whole && whole.bytes.length >= offset + length ? whole.bytes.subarray(offset, offset + length) : undefined;
  if (!bytes) {
    // Synchronous: a few tens of kilobytes the kernel has just been given, once per part per process.
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, 'r');
      const buffer = Buffer.allocUnsafe(length);
      if (fs.readSync(fd, buffer, 0, length, offset) !== length) return undefined;
      bytes = buffer;
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  if (partReads.size >= MAX_PART_READS) partReads.delete(partReads.keys().next().value!);
  partReads.set(key, bytes);
  return bytes;
}

async function serveFromDisk(deps: HlsHandlerDeps, request: HlsRequest, route: Route): Promise<Sent> {
  const { file, playbackId, root, parts } = route;
  if (file.kind === 'poster') await deps.posters?.refresh(playbackId);
  const found = await deps.files.read(root, parts);
  if (!found) return sendError(request, 404, 'not_found', 'Not found');
  if (file.kind === 'segment' || file.kind === 'init' || file.kind === 'poster') return sendMedia(request, route, found);

  const playlist = playlistOf(await bytesOf(found));
  if (file.kind === 'media-playlist') return sendStoredPlaylist(deps, request, route, playlist, found.mtime);
  let body = playlist.bytes;
  let etag = playlist.etag;
  const ended = file.kind === 'session-master' && (await variantsEnded(deps.files, deps.layout.sessionDir(playbackId, file.sessionId), playlist.text));
  const sessionId = viewerSessionOf(request);
  if (sessionId || request.signed) {
    let text = sessionId ? withViewerSession(playlist.text, sessionId) : playlist.text;
    if (request.signed) text = withPlaybackToken(text, request.signed.token);
    body = Buffer.from(text);
    // Each viewer's rewritten master has its own tag.
    etag = digestEtag(body);
  }
  return sendPlaylist(request, body, etag, ended ? CACHE.ended : CACHE.master, found.mtime);
}

function sendMedia(request: HlsRequest, route: Route, found: CachedFile | OpenedFile): Sent {
  const poster = route.file.kind === 'poster';
  const { size, etag, mtime } = found;
  return sendRepresentation(request.req, request.res, request.headers, {
    contentType: route.contentType,
    cacheControl: poster ? CACHE.poster : CACHE.media,
    size,
    etag,
    lastModified: mtime,
    body: 'bytes' in found ? found.bytes : found.handle,
  });
}

/** A media playlist from disk: an ended session's, or a recording (which counts no viewer once ended). */
function sendStoredPlaylist(deps: HlsHandlerDeps, request: HlsRequest, route: Route, playlist: Playlist, mtime: Date): Sent {
  const { req } = request;
  if (!playlist.ended && req.method === 'GET') deps.viewers.seen(route.playbackId, viewerOf(deps, request));
  const { body, etag } = request.signed ? tokenised(playlist.bytes, request.signed.token) : { body: playlist.bytes, etag: playlist.etag };
  return sendPlaylist(request, body, etag, playlist.ended ? CACHE.ended : CACHE.livePlaylist, mtime);
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

/** Per version of a playlist, its copies with each token written in: the viewers of one version share them. */
const tokenisedCopies = new WeakMap<Buffer, Map<string, RenderedPlaylist>>();
const MAX_TOKENISED_COPIES = 256;

function tokenised(body: Buffer, token: string): RenderedPlaylist {
  let copies = tokenisedCopies.get(body);
  if (!copies) tokenisedCopies.set(body, (copies = new Map()));
  let copy = copies.get(token);
  if (!copy) {
    const text = Buffer.from(withPlaybackToken(body.toString('utf8'), token));
    copy = { body: text, etag: digestEtag(text) };
    if (copies.size >= MAX_TOKENISED_COPIES) copies.clear();
    copies.set(token, copy);
  }
  return copy;
}

/** A signed stream's viewers are its tokens (or the viewer ids they name); a public one's, its players. */
function viewerOf(deps: HlsHandlerDeps, request: HlsRequest): string {
  return request.signed?.viewer ?? viewerId(request.req, viewerSessionOf(request), deps.trustProxy);
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
    playlist = { bytes, text, ended: hasEndList(text), etag: digestEtag(bytes) };
    playlists.set(bytes, playlist);
  }
  return playlist;
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
    const found = safePathParts(parts) ? await files.read(sessionDir, parts) : undefined;
    if (!found || !playlistOf(await bytesOf(found)).ended) return false;
  }
  return true;
}
