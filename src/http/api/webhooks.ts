import { WEBHOOK_EVENTS } from '../../webhooks/events';
import type { WebhookService } from '../../webhooks/webhook-service';
import { decodeCursor, pageBody, parseLimit } from '../cursor';
import { notFound } from '../errors';
import { createdTarget, defineRoute, type ApiRoute } from './route';
import { DeliveryBody, IdParams, PageQuery, pageOf, WebhookBody, WebhookCreate, WebhookUpdate, WebhookWithSecret } from './schemas';
import { deliveryView, webhookView } from './views';

const TAG = 'Webhooks';
const target = ({ params }: { params: { id: string } }) => `webhook:${params.id}`;

export function webhookRoutes(webhooks: WebhookService): ApiRoute[] {
  const find = async (id: string) => {
    const webhook = await webhooks.get(id);
    if (!webhook) throw notFound('No webhook with this id.');
    return webhook;
  };
  return [
    defineRoute({
      operationId: 'webhooks.create',
      method: 'post',
      path: '/api/v1/webhooks',
      tag: TAG,
      summary: 'Register a webhook endpoint',
      description: `The origin POSTs these events as JSON: ${WEBHOOK_EVENTS.join(', ')}. Each delivery is signed (see X-Origin-Signature in the README) with the secret in this answer.`,
      scope: 'admin',
      body: WebhookCreate,
      success: { status: 201, description: 'Registered', schema: WebhookWithSecret },
      errors: [400, 413, 415],
      audit: createdTarget('webhook'),
      handle: async ({ body }) => {
        const webhook = await webhooks.register({
          url: body.url,
          events: body.events ?? [...WEBHOOK_EVENTS],
          ...(body.description !== undefined && { description: body.description }),
        });
        return { body: webhookView(webhook, true) };
      },
    }),
    defineRoute({
      operationId: 'webhooks.list',
      method: 'get',
      path: '/api/v1/webhooks',
      tag: TAG,
      summary: 'List webhook endpoints',
      scope: 'admin',
      success: { status: 200, description: 'All endpoints', schema: pageOf(WebhookBody, 'WebhookList') },
      errors: [],
      handle: async () => ({ body: { data: (await webhooks.list()).map((webhook) => webhookView(webhook)), nextCursor: null } }),
    }),
    defineRoute({
      operationId: 'webhooks.get',
      method: 'get',
      path: '/api/v1/webhooks/{id}',
      tag: TAG,
      summary: 'Get a webhook endpoint',
      scope: 'admin',
      params: IdParams,
      success: { status: 200, description: 'The endpoint', schema: WebhookBody },
      errors: [404],
      handle: async ({ params }) => ({ body: webhookView(await find(params.id)) }),
    }),
    defineRoute({
      operationId: 'webhooks.update',
      method: 'patch',
      path: '/api/v1/webhooks/{id}',
      tag: TAG,
      summary: 'Change a webhook endpoint',
      scope: 'admin',
      params: IdParams,
      body: WebhookUpdate,
      success: { status: 200, description: 'The changed endpoint', schema: WebhookBody },
      errors: [400, 404, 413, 415],
      audit: target,
      handle: async ({ params, body }) => {
        await find(params.id);
        return { body: webhookView((await webhooks.update(params.id, body))!) };
      },
    }),
    defineRoute({
      operationId: 'webhooks.rotateSecret',
      method: 'post',
      path: '/api/v1/webhooks/{id}/rotate-secret',
      tag: TAG,
      summary: "Replace a webhook endpoint's signing secret",
      scope: 'admin',
      params: IdParams,
      success: { status: 200, description: 'The endpoint with its new secret', schema: WebhookWithSecret },
      errors: [404],
      audit: target,
      handle: async ({ params }) => {
        await find(params.id);
        return { body: webhookView((await webhooks.rotateSecret(params.id))!, true) };
      },
    }),
    defineRoute({
      operationId: 'webhooks.delete',
      method: 'delete',
      path: '/api/v1/webhooks/{id}',
      tag: TAG,
      summary: 'Remove a webhook endpoint',
      description: 'Its pending deliveries are dropped; the delivery log stays.',
      scope: 'admin',
      params: IdParams,
      success: { status: 204, description: 'Removed' },
      errors: [404],
      audit: target,
      handle: async ({ params }) => {
        if (!(await webhooks.delete(params.id))) throw notFound('No webhook with this id.');
        return {};
      },
    }),
    defineRoute({
      operationId: 'webhooks.deliveries',
      method: 'get',
      path: '/api/v1/webhooks/{id}/deliveries',
      tag: TAG,
      summary: "A webhook endpoint's delivery log",
      description: 'Newest first: status, attempts, the last HTTP status or error, when the next attempt is due.',
      scope: 'admin',
      params: IdParams,
      query: PageQuery,
      success: { status: 200, description: 'A page of deliveries', schema: pageOf(DeliveryBody, 'DeliveryPage') },
      errors: [400, 404],
      handle: async ({ params, query }) => {
        await find(params.id);
        return { body: pageBody(await webhooks.deliveries(params.id, parseLimit(query.limit), decodeCursor(query.cursor)), deliveryView) };
      },
    }),
  ];
}
