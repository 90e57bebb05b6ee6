import type { IncomingMessage } from 'node:http';
import Koa from 'koa';
import type Router from '@koa/router';
import { randomBase62 } from '../streams/keys';
import type { Logger } from '../observability/logger';
import type { AppState } from './context';
import { errorMiddleware } from './errors';

export interface HttpAppOptions {
  /** Behind a reverse proxy: client addresses come from X-Forwarded-For. */
  trustProxy: boolean;
  /** Run for every request before the routes (security headers). */
  before: Koa.Middleware<AppState>[];
  onDatabaseUnavailable: () => void;
  /** From requestIds(), shared with the HLS handler. */
  requestId: (incoming: string | undefined) => string;
  /** The client's address of a request a delivery process forwarded (src/http/delivery-processes.ts). */
  forwardedClientAddress?: (req: IncomingMessage) => string | undefined;
}

/**
 * Ids for requests: the client's own X-Request-Id when it is well-formed, else this process's
 * prefix and a count, unique without drawing random bytes for every playlist request.
 */
export function requestIds(): (incoming: string | undefined) => string {
  const prefix = randomBase62(8);
  let count = 0;
  return (incoming) => (incoming !== undefined && /^[A-Za-z0-9_-]{1,64}$/.test(incoming) ? incoming : `${prefix}${(++count).toString(36)}`);
}

/** Assembles the Koa application from its routers; every request gets an id and a child logger. */
export function createHttpApp(logger: Logger, routers: Router<AppState>[], options: HttpAppOptions): Koa<AppState> {
  const app = new Koa<AppState>();
  app.proxy = options.trustProxy;
  app.silent = true;

  app.use(async (ctx, next) => {
    const forwardedFor = options.forwardedClientAddress?.(ctx.req);
    if (forwardedFor !== undefined) ctx.request.ip = forwardedFor;
    const requestId = options.requestId(ctx.get('X-Request-Id') || undefined);
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const entry = { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) };
      if (ctx.path.startsWith('/api/')) ctx.state.log.info(entry, 'request');
      else ctx.state.log.debug(entry, 'request');
    }
  });
  app.use(errorMiddleware(logger, options.onDatabaseUnavailable));
  for (const middleware of options.before) app.use(middleware);
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
