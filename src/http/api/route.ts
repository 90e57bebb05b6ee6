import type http from 'node:http';
import Router from '@koa/router';
import type { z } from 'zod';
import type { AuditLog } from '../../audit/audit-log';
import type { FailureGuard } from '../../security/failure-guard';
import type { TokenScope } from '../../streams/token-repository';
import type { Principal, TokenService } from '../../streams/token-service';
import { authenticate } from '../auth';
import type { AppContext, AppState } from '../context';
import { ApiError, notFound } from '../errors';
import { jsonBody, validBody } from '../json-body';

type Schema = z.ZodType;
type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal;
  ctx: AppContext;
}

/**
 * One endpoint: what it accepts, what it answers, who may call it, and what it does. The Koa router
 * and the OpenAPI document are both built from these, so the document cannot drift from the code.
 */
export interface ApiRoute<P extends Schema | undefined = Schema | undefined, Q extends Schema | undefined = Schema | undefined, B extends Schema | undefined = Schema | undefined> {
  operationId: string;
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI form: /api/v1/streams/{id}. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  scope: TokenScope;
  params?: P;
  query?: Q;
  body?: B;
  success: { status: number; description: string; schema?: Schema };
  /** Error statuses this endpoint can answer, besides 401 (and 403 for admin endpoints). */
  errors: number[];
  /** Changes are audited; this names what was changed, e.g. `stream:<id>`. */
  audit?: (input: { params: Infer<P> }, result: unknown) => string | null;
  handle(input: RouteInput<Infer<P>, Infer<Q>, Infer<B>>): Promise<{ body?: unknown; headers?: Record<string, string> }>;
}

export function defineRoute<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(
  route: ApiRoute<P, Q, B>,
): ApiRoute {
  return route as unknown as ApiRoute;
}

/** Audit target of a create: the new resource's id, or nothing when the create failed. */
export function createdTarget(kind: string) {
  return (_input: unknown, result: unknown): string | null => {
    const id = (result as { id?: unknown } | undefined)?.id;
    return typeof id === 'string' ? `${kind}:${id}` : null;
  };
}

export function koaPath(openApiPath: string): string {
  return openApiPath.replace(/\{(\w+)\}/g, ':$1');
}

/** Mounts routes: authentication, scope, validation (bad ids are 404s), the handler, the audit entry. */
export function mountRoutes(
  routes: ApiRoute[],
  deps: { tokens: TokenService; audit: AuditLog; authFailures: FailureGuard; fromPeer?: (req: http.IncomingMessage) => boolean },
): Router<AppState> {
  const router = new Router<AppState>();
  const auth = authenticate(deps.tokens, deps.authFailures, deps.fromPeer);
  for (const route of routes) {
    const middleware = [auth];
    if (route.body) middleware.push(jsonBody());
    router[route.method](koaPath(route.path), ...middleware, async (ctx) => {
      const principal = ctx.state.principal!;
      let result: unknown;
      try {
        if (route.scope === 'admin' && principal.scope !== 'admin') throw new ApiError(403, 'forbidden', 'This token has read access only.');
        const params = route.params ? route.params.safeParse(ctx.params) : undefined;
        if (params && !params.success) throw notFound();
        const query = route.query ? validated(route.query, ctx.query, 'query') : undefined;
        const body = route.body ? validBody(ctx, route.body) : undefined;
        const answer = await route.handle({ params: params?.data, query, body, principal, ctx });
        result = answer.body;
        ctx.status = route.success.status;
        for (const [header, value] of Object.entries(answer.headers ?? {})) ctx.set(header, value);
        if (answer.body !== undefined) ctx.body = answer.body;
        await record(ctx, route, principal, result, 'ok', route.success.status);
      } catch (error) {
        const status = error instanceof ApiError ? error.status : 500;
        await record(ctx, route, principal, result, error instanceof ApiError ? error.code : 'internal_error', status);
        throw error;
      }
    });
  }
  return router;

  async function record(ctx: AppContext, route: ApiRoute, principal: Principal, result: unknown, outcome: string, status: number) {
    if (!route.audit) return;
    try {
      const target = route.audit({ params: ctx.params }, result);
      await deps.audit.record({ tokenId: principal.tokenId, tokenName: principal.name, action: route.operationId, target, outcome, status });
    } catch (error) {
      ctx.state.log.error({ err: error }, 'cannot write the audit entry');
    }
  }
}

function validated<S extends Schema>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || `(${where})`, message: issue.message }));
  throw new ApiError(400, 'bad_request', `${details[0]?.field}: ${details[0]?.message}`, details);
}
