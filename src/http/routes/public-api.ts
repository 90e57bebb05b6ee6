import Router from '@koa/router';
import type { PlaybackAccess } from '../../playback/playback-access';
import { PLAYBACK_ID_PATTERN } from '../../streams/keys';
import type { StreamService } from '../../streams/stream-service';
import type { AppState } from '../context';
import type { Cors } from '../cors';
import { notFound, playbackDenied } from '../errors';
import { queryToken, type PlaybackCheck } from '../playback-check';
import type { StreamView } from '../stream-view';

/**
 * Every open player polls this, so a cache in front may answer it for a couple of seconds: a
 * stream that goes live is seen that much later, and the origin's database is asked far less. A
 * signed stream's status carries the viewer's token: it is that viewer's alone.
 */
const STATUS_CACHE = 'public, max-age=2';
const SIGNED_STATUS_CACHE = 'private, max-age=2';

/** How long a cache in front may reuse an access decision: a revoked key is honoured this much later at most. */
const ACCESS_CACHE_SECONDS = 10;

export interface PublicApiDeps {
  streams: StreamService;
  view: StreamView;
  cors: Cors;
  check: PlaybackCheck;
  access: Pick<PlaybackAccess, 'check'>;
  now: () => number;
}

/** Unauthenticated status for players and embeds: name, status, viewers and playback URLs only. */
export function publicApi(deps: PublicApiDeps): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/public' });
  router.use(deps.cors.headers);
  router.options('/streams/:playbackId', deps.cors.preflight);
  router.get('/streams/:playbackId', async (ctx) => {
    const playbackId = ctx.params.playbackId ?? '';
    const stream = PLAYBACK_ID_PATTERN.test(playbackId) ? await deps.streams.getByPlaybackId(playbackId) : undefined;
    if (!stream) throw notFound('No stream with this playback id.');
    const access = deps.check(ctx, stream);
    if (!access.allowed) throw playbackDenied(access);
    ctx.set('Cache-Control', access.token === undefined ? STATUS_CACHE : SIGNED_STATUS_CACHE);
    ctx.body = await deps.view.public(stream, deps.streams, access.token);
  });

  /**
   * Would this origin serve the stream's media to this request (its `token` parameter and Origin
   * header)? 204 or 403 with the reason in X-Playback-Denied: a cache in front (nginx
   * `auth_request`, deploy/nginx/live-origin.conf) asks this before answering from its copy. A
   * playback id that is not a signed stream's is allowed: the media request itself finds out.
   */
  router.get('/streams/:playbackId/access', (ctx) => {
    const access = deps.access.check(ctx.params.playbackId ?? '', queryToken(ctx), ctx.get('Origin') || undefined, deps.now());
    if (!access.allowed) {
      ctx.set('X-Playback-Denied', access.code);
      throw playbackDenied(access);
    }
    const seconds = access.token === undefined ? ACCESS_CACHE_SECONDS : Math.min(ACCESS_CACHE_SECONDS, Math.floor((access.expiresAt - deps.now()) / 1000));
    ctx.set('Cache-Control', seconds > 0 ? `max-age=${seconds}` : 'no-store');
    ctx.status = 204;
  });
  return router;
}
