import Router from '@koa/router';
import { PLAYBACK_ID_PATTERN } from '../../streams/keys';
import type { StreamService } from '../../streams/stream-service';
import type { AppState } from '../context';
import { notFound } from '../errors';
import type { StreamView } from '../stream-view';

/** Unauthenticated status for players and embeds: name, status and playback URLs only. */
export function publicApi(deps: { streams: StreamService; view: StreamView }): Router<AppState> {
  const router = new Router<AppState>({ prefix: '/api/v1/public' });
  router.get('/streams/:playbackId', async (ctx) => {
    const playbackId = ctx.params.playbackId ?? '';
    const stream = PLAYBACK_ID_PATTERN.test(playbackId) ? await deps.streams.getByPlaybackId(playbackId) : undefined;
    if (!stream) throw notFound('No stream with this playback id.');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = deps.view.public(stream);
  });
  return router;
}
