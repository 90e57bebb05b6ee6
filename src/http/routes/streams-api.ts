import Router from '@koa/router';
import { z } from 'zod';
import type { SessionRepository } from '../../live/session-repository';
import { ID_PATTERN } from '../../streams/keys';
import type { StreamService } from '../../streams/stream-service';
import type { TokenService } from '../../streams/token-service';
import { requireScope } from '../auth';
import type { AppState } from '../context';
import { decodeCursor, encodeCursor, parseLimit } from '../cursor';
import { notFound } from '../errors';
import { jsonBody, validBody } from '../json-body';
import type { StreamView } from '../stream-view';

function createStreamBody(profiles: readonly string[]) {
  return z
    .object({
      name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
      profile: z.string().refine((p) => profiles.includes(p), `must be one of: ${profiles.join(', ')}`).optional(),
      record: z.boolean().optional(),
      reconnectWindowSeconds: z.number().int().min(0).max(3600).optional(),
    })
    .strict();
}

export function streamsApi(deps: {
  streams: StreamService;
  sessions: SessionRepository;
  tokens: TokenService;
  view: StreamView;
  profiles: readonly string[];
}): Router<AppState> {
  const { streams, tokens, view } = deps;
  const createBody = createStreamBody(deps.profiles);
  const router = new Router<AppState>({ prefix: '/api/v1/streams' });

  router.post('/', requireScope(tokens, 'admin'), jsonBody(), async (ctx) => {
    const input = validBody(ctx, createBody);
    const { stream, streamKey } = await streams.create(input);
    ctx.state.log.info({ streamId: stream.id, playbackId: stream.playbackId }, 'stream created');
    ctx.status = 201;
    ctx.set('Location', `/api/v1/streams/${stream.id}`);
    ctx.body = view.operator(stream, streamKey);
  });

  router.get('/', requireScope(tokens, 'read'), async (ctx) => {
    const limit = parseLimit(ctx.query.limit);
    const list = await streams.list(limit);
    ctx.body = { data: list.map((stream) => view.operator(stream)) };
  });

  const findStream = async (id: string | undefined) => {
    const stream = id && ID_PATTERN.test(id) ? await streams.get(id) : undefined;
    if (!stream) throw notFound('No stream with this id.');
    return stream;
  };

  router.get('/:id', requireScope(tokens, 'read'), async (ctx) => {
    ctx.body = view.operator(await findStream(ctx.params.id), undefined, true);
  });

  router.get('/:id/sessions', requireScope(tokens, 'read'), async (ctx) => {
    const stream = await findStream(ctx.params.id);
    const page = await deps.sessions.pageByStream(stream.id, parseLimit(ctx.query.limit), decodeCursor(ctx.query.cursor));
    ctx.body = { data: page.items.map((session) => view.session(stream, session)), nextCursor: page.next ? encodeCursor(page.next) : null };
  });

  return router;
}
