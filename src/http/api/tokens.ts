import type { TokenService } from '../../streams/token-service';
import { notFound } from '../errors';
import { createdTarget, defineRoute, type ApiRoute } from './route';
import { CurrentTokenBody, IdParams, pageOf, TokenBody, TokenCreate, TokenWithSecret } from './schemas';
import { tokenView } from './views';

const TAG = 'Tokens';

export function tokenRoutes(tokens: TokenService): ApiRoute[] {
  return [
    defineRoute({
      operationId: 'tokens.current',
      method: 'get',
      path: '/api/v1/token',
      tag: TAG,
      summary: 'The token making this request',
      description: 'Its name and scope: what a client (the console) may offer to do with it.',
      scope: 'read',
      success: { status: 200, description: 'The token', schema: CurrentTokenBody },
      errors: [],
      handle: async ({ principal }) => ({ body: { id: principal.tokenId, name: principal.name, scope: principal.scope } }),
    }),
    defineRoute({
      operationId: 'tokens.create',
      method: 'post',
      path: '/api/v1/tokens',
      tag: TAG,
      summary: 'Create an API token',
      description: 'The secret is in this answer only; the origin keeps its hash.',
      scope: 'admin',
      body: TokenCreate,
      success: { status: 201, description: 'Created', schema: TokenWithSecret },
      errors: [400, 413, 415],
      audit: createdTarget('token'),
      handle: async ({ body }) => {
        const { token, record } = await tokens.create(body);
        return { body: { ...tokenView(record), token } };
      },
    }),
    defineRoute({
      operationId: 'tokens.list',
      method: 'get',
      path: '/api/v1/tokens',
      tag: TAG,
      summary: 'List API tokens',
      description: 'Active tokens first, then revoked ones. Secrets are never shown again.',
      scope: 'admin',
      success: { status: 200, description: 'All tokens', schema: pageOf(TokenBody, 'TokenList') },
      errors: [],
      handle: async () => ({ body: { data: (await tokens.list()).map(tokenView), nextCursor: null } }),
    }),
    defineRoute({
      operationId: 'tokens.revoke',
      method: 'delete',
      path: '/api/v1/tokens/{id}',
      tag: TAG,
      summary: 'Revoke an API token',
      description: 'It stops working at once. The ADMIN_TOKEN of the environment cannot be revoked here.',
      scope: 'admin',
      params: IdParams,
      success: { status: 204, description: 'Revoked' },
      errors: [404],
      audit: ({ params }) => `token:${params.id}`,
      handle: async ({ params }) => {
        if (!(await tokens.revoke(params.id))) throw notFound('No active token with this id.');
        return {};
      },
    }),
  ];
}
