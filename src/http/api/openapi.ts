import { OpenAPIRegistry, OpenApiGeneratorV3 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { ApiRoute } from './route';
import { ErrorBody, PublicStreamBody } from './schemas';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid; `details` says which field and why',
  401: 'No valid API token',
  403: 'The token may read but not change',
  404: 'No such resource',
  409: 'The request conflicts with the current state',
  413: 'The body is larger than 64 KiB',
  415: 'The body is not JSON',
};

/** The OpenAPI 3 document, built from the same route table and schemas the server runs. */
export function buildOpenApi(routes: ApiRoute[], serverUrl: string, version: string) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'An API token (tok_…) or ADMIN_TOKEN.' });
  const errorResponse = (status: number) => ({ description: ERROR_DESCRIPTIONS[status] ?? 'Error', content: { 'application/json': { schema: ErrorBody } } });

  const playbackParams = z.object({ playbackId: z.string().regex(/^[A-Za-z0-9]{20}$/) });
  const playbackQuery = z.object({ token: z.string().optional().meta({ description: "A signed stream's playback token." }) });
  const playbackDenied = {
    description:
      'A signed stream, and no valid token: `token_required`, `token_invalid`, `token_expired`, `token_not_yet_valid`, `token_revoked`, `token_wrong_stream` or `origin_not_allowed`',
    content: { 'application/json': { schema: ErrorBody } },
  };

  for (const route of routes) {
    const errors = [401, ...(route.scope === 'admin' ? [403] : []), ...route.errors];
    registry.registerPath({
      method: route.method,
      path: route.path,
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      description: [route.description, `Scope: \`${route.scope}\`.`].filter(Boolean).join('\n\n'),
      security: [{ [bearer.name]: [] }],
      request: {
        ...(route.params && { params: route.params as z.ZodObject }),
        ...(route.query && { query: route.query as z.ZodObject }),
        ...(route.body && { body: { required: true, content: { 'application/json': { schema: route.body } } } }),
      },
      responses: {
        [route.success.status]: {
          description: route.success.description,
          ...(route.success.schema && { content: { 'application/json': { schema: route.success.schema } } }),
        },
        ...Object.fromEntries([...new Set(errors)].map((status) => [status, errorResponse(status)])),
      },
    });
  }

  registry.registerPath({
    method: 'get',
    path: '/api/v1/public/streams/{playbackId}',
    operationId: 'public.stream',
    tags: ['Public'],
    summary: "A stream's public status",
    description:
      "No API token needed: name, status and playback URLs, by playback id. For players and embeds. A signed stream's needs a playback token, which the URLs then carry.",
    request: { params: playbackParams, query: playbackQuery },
    responses: {
      200: { description: 'The stream', content: { 'application/json': { schema: PublicStreamBody } } },
      403: playbackDenied,
      404: errorResponse(404),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/public/streams/{playbackId}/access',
    operationId: 'public.streamAccess',
    tags: ['Public'],
    summary: 'Would the origin serve this stream to this request?',
    description:
      "For a cache in front (nginx `auth_request`): 204 when the stream is public or the `token` opens it for the request's Origin, 403 with the reason (also in `X-Playback-Denied`) otherwise. `Cache-Control` says how long the answer holds: 10 s at most, never past the token's expiry.",
    request: { params: playbackParams, query: playbackQuery },
    responses: { 204: { description: 'Allowed' }, 403: playbackDenied },
  });

  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'live-origin API',
      version,
      description:
        'Operate a live-streaming origin: streams and their keys, API tokens, signed playback, publish history, webhooks and the audit log. Errors are `{ "error": { "code", "message", "details"? } }`.',
    },
    servers: [{ url: serverUrl }],
  });
}
