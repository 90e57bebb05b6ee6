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
}

/** Assembles the Koa application from its routers; every request gets an id and a child logger. */
export function createHttpApp(logger: Logger, routers: Router<AppState>[], options: HttpAppOptions): Koa<AppState> {
  const app = new Koa<AppState>();
  app.proxy = options.trustProxy;
  app.silent = true;

  // Unique without drawing random bytes for every playlist request: this process's prefix and a count.
  const idPrefix = randomBase62(8);
  let requests = 0;
  app.use(async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = /^[A-Za-z0-9_-]{1,64}$/.test(incoming) ? incoming : `${idPrefix}${(++requests).toString(36)}`;
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const entry = { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) };
      // Segment and playlist fetches are the bulk of the traffic: keep them out of info logs.
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
