import type { PlaybackService } from '../../playback/playback-service';
import { withTokenParam } from '../../playback/playback-uris';
import type { StreamService } from '../../streams/stream-service';
import { notFound } from '../errors';
import type { StreamView } from '../stream-view';
import { createdTarget, defineRoute, type ApiRoute } from './route';
import { findStream } from './streams';
import { IdParams, pageOf, PlaybackKeyBody, PlaybackKeyCreate, PlaybackKeyWithSecret, PlaybackTokenBody, PlaybackTokenCreate } from './schemas';
import { playbackKeyView } from './views';

const TAG = 'Signed playback';

/** Playback tokens for signed streams, and the keys that sign them (src/playback/). */
export function playbackRoutes(deps: { streams: StreamService; playback: PlaybackService; view: StreamView }): ApiRoute[] {
  const { playback } = deps;
  return [
    defineRoute({
      operationId: 'streams.playbackTokens.create',
      method: 'post',
      path: '/api/v1/streams/{id}/playback-tokens',
      tag: TAG,
      summary: 'Mint a playback token',
      description:
        'A token that opens this stream until it expires, signed with the newest active playback key (one is made if there is none). The origin writes it into every URI it hands out, so the master playlist or watch page URL with `?token=` is all a player needs. The token itself is never stored or logged.',
      scope: 'admin',
      params: IdParams,
      body: PlaybackTokenCreate,
      success: { status: 201, description: 'Minted', schema: PlaybackTokenBody },
      errors: [400, 404, 413, 415],
      audit: ({ params }) => `stream:${params.id}`,
      handle: async ({ params, body }) => {
        const stream = await findStream(deps.streams, params.id);
        const { token, expiresAt } = await playback.mint(stream, body);
        const urls = deps.view.playbackUrls(stream);
        return { body: { token, expiresAt: new Date(expiresAt).toISOString(), hlsUrl: withTokenParam(urls.hlsUrl, token), playerUrl: withTokenParam(urls.playerUrl, token) } };
      },
    }),
    defineRoute({
      operationId: 'playbackKeys.create',
      method: 'post',
      path: '/api/v1/playback-keys',
      tag: TAG,
      summary: 'Create a playback signing key',
      description:
        'For minting tokens in your own backend (the README shows how). The secret is in this answer only. New tokens minted by the API are signed with the newest key; tokens signed with older keys keep working until their key is revoked.',
      scope: 'admin',
      body: PlaybackKeyCreate,
      success: { status: 201, description: 'Created', schema: PlaybackKeyWithSecret },
      errors: [400, 413, 415],
      audit: createdTarget('playback-key'),
      handle: async ({ body }) => {
        const { record, secret } = await playback.createKey(body.name ?? '');
        return { body: { ...playbackKeyView(record), secret } };
      },
    }),
    defineRoute({
      operationId: 'playbackKeys.list',
      method: 'get',
      path: '/api/v1/playback-keys',
      tag: TAG,
      summary: 'List playback signing keys',
      description: 'Active keys first, newest first, then revoked ones. Secrets are never shown again.',
      scope: 'admin',
      success: { status: 200, description: 'All keys', schema: pageOf(PlaybackKeyBody, 'PlaybackKeyList') },
      errors: [],
      handle: async () => ({ body: { data: (await playback.listKeys()).map(playbackKeyView), nextCursor: null } }),
    }),
    defineRoute({
      operationId: 'playbackKeys.revoke',
      method: 'delete',
      path: '/api/v1/playback-keys/{id}',
      tag: TAG,
      summary: 'Revoke a playback signing key',
      description: 'Every token it signed stops working: at once on this node, within `live.watchIntervalSeconds` on the other nodes of a cluster.',
      scope: 'admin',
      params: IdParams,
      success: { status: 204, description: 'Revoked' },
      errors: [404],
      audit: ({ params }) => `playback-key:${params.id}`,
      handle: async ({ params }) => {
        if (!(await playback.revokeKey(params.id))) throw notFound('No active playback key with this id.');
        return {};
      },
    }),
  ];
}
