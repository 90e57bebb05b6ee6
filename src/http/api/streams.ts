import type http from 'node:http';
import type { StreamControl } from '../../control/stream-control';
import type { SessionRepository } from '../../live/session-repository';
import type { StreamHistory } from '../../observability/stream-history';
import type { PlaybackService } from '../../playback/playback-service';
import type { StreamRecord } from '../../streams/stream-repository';
import type { StreamService } from '../../streams/stream-service';
import { decodeCursor, pageBody, parseLimit } from '../cursor';
import type { AppContext } from '../context';
import { ApiError, notFound } from '../errors';
import type { StreamView } from '../stream-view';
import { createdTarget, defineRoute, type ApiRoute } from './route';
import {
  DisconnectBody,
  IdParams,
  PageQuery,
  pageOf,
  ResetKeyBody,
  SessionBody,
  StreamBody,
  StreamListQuery,
  StreamStatsBody,
  StreamWithKey,
  streamCreate,
  streamUpdate,
} from './schemas';

export interface StreamRoutesDeps {
  streams: StreamService;
  control: StreamControl;
  sessions: SessionRepository;
  view: StreamView;
  profiles: readonly string[];
  /** The last hour of each stream live on this node (the console's graphs). */
  history: Pick<StreamHistory, 'of'>;
  historyIntervalSeconds: number;
  /** Told when a stream's playback policy is set, so that it holds on this node at once. */
  playback: Pick<PlaybackService, 'changed'>;
  /**
   * In a cluster, a stream live on another node: the request for its live view is sent there
   * (true), since only that node has its live session and last hour.
   */
  passLiveView?: (streamId: string, req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

const TAG = 'Streams';
const streamTarget = ({ params }: { params: { id: string } }) => `stream:${params.id}`;

/** The stream with this id, or a 404 for the API. */
export async function findStream(streams: Pick<StreamService, 'get'>, id: string): Promise<StreamRecord> {
  const stream = await streams.get(id);
  if (!stream) throw notFound('No stream with this id.');
  return stream;
}

export function streamRoutes(deps: StreamRoutesDeps): ApiRoute[] {
  const { streams, control, view } = deps;
  const find = (id: string) => findStream(streams, id);
  /** Sent to the node with the stream, whose answer is streamed back as it comes. */
  const passedOn = (streamId: string, ctx: AppContext) => {
    if (!deps.passLiveView?.(streamId, ctx.req, ctx.res)) return false;
    ctx.respond = false;
    return true;
  };

  return [
    defineRoute({
      operationId: 'streams.create',
      method: 'post',
      path: '/api/v1/streams',
      tag: TAG,
      summary: 'Create a stream',
      description: 'Answers with the stream key. This and a key reset are the only times it is shown: the origin keeps only its hash.',
      scope: 'admin',
      body: streamCreate(deps.profiles),
      success: { status: 201, description: 'Created', schema: StreamWithKey },
      errors: [400, 413, 415],
      audit: createdTarget('stream'),
      handle: async ({ body, ctx }) => {
        const { stream, streamKey } = await control.create(body);
        if (stream.playback === 'signed') await deps.playback.changed();
        ctx.state.log.info({ streamId: stream.id, playbackId: stream.playbackId }, 'stream created');
        return { body: view.operator(stream, streamKey), headers: { Location: `/api/v1/streams/${stream.id}` } };
      },
    }),
    defineRoute({
      operationId: 'streams.list',
      method: 'get',
      path: '/api/v1/streams',
      tag: TAG,
      summary: 'List streams',
      description: 'Newest first, in pages: pass the nextCursor of one page as cursor to get the next. `status` is the status on any node of the cluster.',
      scope: 'read',
      query: StreamListQuery,
      success: { status: 200, description: 'A page of streams', schema: pageOf(StreamBody, 'StreamPage') },
      errors: [400],
      handle: async ({ query }) => {
        const live = view.liveStreamIds();
        const page = await streams.page(parseLimit(query.limit), decodeCursor(query.cursor), {
          ...(query.enabled !== undefined && { enabled: query.enabled === 'true' }),
          ...(query.status === 'live' && { ids: { in: live } }),
          ...(query.status === 'idle' && { ids: { notIn: live } }),
        });
        return { body: pageBody(page, (stream) => view.operator(stream)) };
      },
    }),
    defineRoute({
      operationId: 'streams.get',
      method: 'get',
      path: '/api/v1/streams/{id}',
      tag: TAG,
      summary: 'Get a stream',
      description: 'With `liveSession` while it is live: source codecs, size, frame rate, bitrate and keyframe interval, the renditions, the transcoder speed.',
      scope: 'read',
      params: IdParams,
      success: { status: 200, description: 'The stream', schema: StreamBody },
      errors: [404],
      handle: async ({ params, ctx }) => {
        const stream = await find(params.id);
        if (passedOn(stream.id, ctx)) return {};
        return { body: view.operator(stream, undefined, true) };
      },
    }),
    defineRoute({
      operationId: 'streams.update',
      method: 'patch',
      path: '/api/v1/streams/{id}',
      tag: TAG,
      summary: 'Change a stream',
      description:
        'Disabling a live stream ends its session at once, and so does a playback policy for every viewer. Profile, recording and reconnect window apply from the next session.',
      scope: 'admin',
      params: IdParams,
      body: streamUpdate(deps.profiles),
      success: { status: 200, description: 'The changed stream', schema: StreamBody },
      errors: [400, 404, 413, 415],
      audit: streamTarget,
      handle: async ({ params, body }) => {
        const updated = await control.update(await find(params.id), body);
        if (body.playback !== undefined) await deps.playback.changed();
        return { body: view.operator(updated, undefined, true) };
      },
    }),
    defineRoute({
      operationId: 'streams.resetKey',
      method: 'post',
      path: '/api/v1/streams/{id}/reset-key',
      tag: TAG,
      summary: 'Give a stream a new key',
      description: 'The old key stops working at once. With `{"disconnect": true}` the current publisher is cut off as well.',
      scope: 'admin',
      params: IdParams,
      body: ResetKeyBody,
      success: { status: 200, description: 'The stream with its new key', schema: StreamWithKey },
      errors: [400, 404, 415],
      audit: streamTarget,
      handle: async ({ params, body }) => {
        const stream = await find(params.id);
        const key = await control.resetKey(stream, { disconnect: body.disconnect ?? false });
        return { body: view.operator(stream, key) };
      },
    }),
    defineRoute({
      operationId: 'streams.disconnect',
      method: 'post',
      path: '/api/v1/streams/{id}/disconnect',
      tag: TAG,
      summary: 'Cut off the publisher',
      description: 'Ends the live session; the publisher may publish again with the key.',
      scope: 'admin',
      params: IdParams,
      success: { status: 200, description: 'The session was ended', schema: DisconnectBody },
      errors: [404, 409],
      audit: streamTarget,
      handle: async ({ params }) => {
        const stream = await find(params.id);
        if (!(await control.disconnect(stream))) throw new ApiError(409, 'conflict', 'The stream is not live.');
        return { body: { disconnected: true } };
      },
    }),
    defineRoute({
      operationId: 'streams.delete',
      method: 'delete',
      path: '/api/v1/streams/{id}',
      tag: TAG,
      summary: 'Delete a stream',
      description: 'Ends any live session and removes the stream, its history and all its media, recordings included.',
      scope: 'admin',
      params: IdParams,
      success: { status: 204, description: 'Deleted' },
      errors: [404],
      audit: streamTarget,
      handle: async ({ params }) => {
        await control.delete(await find(params.id));
        return {};
      },
    }),
    defineRoute({
      operationId: 'streams.stats',
      method: 'get',
      path: '/api/v1/streams/{id}/stats',
      tag: TAG,
      summary: "A live stream's last hour",
      description:
        'Ingest bitrate, viewers and transcoder speed, sampled while the stream is live by the node with the stream (in a cluster, a request to another node is passed to it), oldest first. Kept in memory for an hour.',
      scope: 'read',
      params: IdParams,
      success: { status: 200, description: 'The samples', schema: StreamStatsBody },
      errors: [404],
      handle: async ({ params, ctx }) => {
        const stream = await find(params.id);
        if (passedOn(stream.id, ctx)) return {};
        const data = deps.history.of(stream.id).map((sample) => ({ ...sample, at: new Date(sample.at).toISOString() }));
        return { body: { intervalSeconds: deps.historyIntervalSeconds, data } };
      },
    }),
    defineRoute({
      operationId: 'streams.sessions',
      method: 'get',
      path: '/api/v1/streams/{id}/sessions',
      tag: TAG,
      summary: "A stream's publish history",
      description: 'Newest first, in pages. Recorded sessions have a `vodUrl`.',
      scope: 'read',
      params: IdParams,
      query: PageQuery,
      success: { status: 200, description: 'A page of sessions', schema: pageOf(SessionBody, 'SessionPage') },
      errors: [400, 404],
      handle: async ({ params, query }) => {
        const stream = await find(params.id);
        const page = await deps.sessions.pageByStream(stream.id, parseLimit(query.limit), decodeCursor(query.cursor));
        return { body: pageBody(page, (session) => view.session(stream, session)) };
      },
    }),
  ];
}
