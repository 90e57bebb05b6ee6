import Router from '@koa/router';
import type { Metrics } from '../../observability/metrics';
import type { ReadinessCheck } from '../../observability/readiness';
import { secretsEqual } from '../../streams/keys';
import type { AppState } from '../context';
import { ApiError } from '../errors';

/** Liveness, readiness and Prometheus metrics (bearer-protected when a metrics token is set). */
export function opsRoutes(deps: { metrics: Metrics; readiness: ReadinessCheck; metricsToken: string | undefined }): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const readiness = await deps.readiness.check();
    ctx.set('Cache-Control', 'no-store');
    ctx.status = readiness.ready ? 200 : 503;
    ctx.body = { status: readiness.ready ? 'ready' : 'not_ready', checks: readiness.checks };
  });
  router.get('/metrics', async (ctx) => {
    if (deps.metricsToken !== undefined) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'))?.[1];
      if (given === undefined || !secretsEqual(given, deps.metricsToken)) {
        ctx.set('WWW-Authenticate', 'Bearer');
        throw new ApiError(401, 'unauthorized', 'The metrics need "Authorization: Bearer <metrics token>".');
      }
    }
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  return router;
}
