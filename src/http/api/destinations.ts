import type { DestinationRepository } from '../../restream/destination-repository';
import { generateId } from '../../streams/keys';
import type { StreamService } from '../../streams/stream-service';
import { ApiError, notFound } from '../errors';
import type { StreamView } from '../stream-view';
import { createdTarget, defineRoute, type ApiRoute } from './route';
import { findStream } from './streams';
import { DestinationBody, DestinationCreate, DestinationParams, IdParams, pageOf } from './schemas';
import { destinationView } from './views';

const TAG = 'Restream';
/** A publisher's upload goes out once per destination. */
const MAX_DESTINATIONS = 10;

export interface DestinationRoutesDeps {
  streams: StreamService;
  destinations: DestinationRepository;
  view: StreamView;
  /** The stream's destinations changed: its live session (here) starts or stops pushes now; others see it within live.watchIntervalSeconds. */
  changed: (streamId: string) => Promise<void>;
  now: () => number;
}

/** Restreaming: where a stream's publish is copied to while it is live (src/restream/). */
export function destinationRoutes(deps: DestinationRoutesDeps): ApiRoute[] {
  const find = (id: string) => findStream(deps.streams, id);
  return [
    defineRoute({
      operationId: 'destinations.list',
      method: 'get',
      path: '/api/v1/streams/{id}/destinations',
      tag: TAG,
      summary: "A stream's restream destinations",
      description: "With each one's status while the stream is live. Keys are never shown back.",
      scope: 'read',
      params: IdParams,
      success: { status: 200, description: 'The destinations, oldest first', schema: pageOf(DestinationBody, 'DestinationList') },
      errors: [404],
      handle: async ({ params }) => {
        const stream = await find(params.id);
        const live = deps.view.status(stream) === 'live';
        return { body: { data: (await deps.destinations.listByStream(stream.id)).map((d) => destinationView(d, live)), nextCursor: null } };
      },
    }),
    defineRoute({
      operationId: 'destinations.create',
      method: 'post',
      path: '/api/v1/streams/{id}/destinations',
      tag: TAG,
      summary: 'Restream to another platform',
      description: `While the stream is live, the publish is copied as it is (no re-encoding) to this RTMP or RTMPS URL with this key, each destination on its own connection, retried when it fails. One added while the stream is live starts at once. At most ${MAX_DESTINATIONS} per stream. H.264 sources only (ffmpeg 5.1 cannot send HEVC or AV1).`,
      scope: 'admin',
      params: IdParams,
      body: DestinationCreate,
      success: { status: 201, description: 'Added', schema: DestinationBody },
      errors: [400, 404, 409, 413, 415],
      audit: createdTarget('destination'),
      handle: async ({ params, body }) => {
        const stream = await find(params.id);
        if ((await deps.destinations.countByStream(stream.id)) >= MAX_DESTINATIONS) throw new ApiError(409, 'conflict', `A stream has at most ${MAX_DESTINATIONS} destinations.`);
        const destination = await deps.destinations.insert({ id: generateId(), streamId: stream.id, url: body.url, streamKey: body.streamKey, createdAt: deps.now() });
        await deps.changed(stream.id);
        return { body: destinationView(destination, false) };
      },
    }),
    defineRoute({
      operationId: 'destinations.delete',
      method: 'delete',
      path: '/api/v1/streams/{id}/destinations/{destinationId}',
      tag: TAG,
      summary: 'Stop restreaming to a destination',
      description: 'Its push stops at once if the stream is live here, else within live.watchIntervalSeconds on the node that has it.',
      scope: 'admin',
      params: DestinationParams,
      success: { status: 204, description: 'Removed' },
      errors: [404],
      audit: ({ params }) => `destination:${params.destinationId}`,
      handle: async ({ params }) => {
        const stream = await find(params.id);
        if (!(await deps.destinations.delete(stream.id, params.destinationId))) throw notFound('No such destination for this stream.');
        await deps.changed(stream.id);
        return {};
      },
    }),
  ];
}
