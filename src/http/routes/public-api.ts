import Router from '@koa/router';
import { PLAYBACK_ID_PATTERN } from '../../streams/keys';
import type { StreamService } from '../../streams/stream-service';
import type { AppState } from '../context';
import type { Cors } from '../cors';
import { notFound } from '../errors';
import type { StreamView } from '../stream-view';

/**
 * Every open player polls this, so a cache in front may answer it for a couple of seconds: a
 * stream that goes live is seen that much later, and the origin's database is asked far less.
 */
const STATUS_CACHE = 'public, max-age=2';

/** Unauthenticated status for players and embeds: name, status, viewers and playback URLs only. */
export function publicApi(deps: { streams: StreamService; view: StreamView; cors: Cors }): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/public' });
  router.use(deps.cors.headers);
  router.options('/streams/:playbackId', deps.cors.preflight);
  router.get('/streams/:playbackId', async (ctx) => {
    const playbackId = ctx.params.playbackId ?? '';
    const stream = PLAYBACK_ID_PATTERN.test(playbackId) ? await deps.streams.getByPlaybackId(playbackId) : undefined;
    if (!stream) throw notFound('No stream with this playback id.');
    ctx.set('Cache-Control', STATUS_CACHE);
    ctx.body = await deps.view.public(stream, deps.streams);
  });
  return router;
}
