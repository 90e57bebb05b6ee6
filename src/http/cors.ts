import type { AppContext, AppMiddleware } from './context';

export interface Cors {
  /** Adds the CORS answer headers to every response of the routes it is used on. */
  headers: AppMiddleware;
  /** Answers a preflight (OPTIONS) request. */
  preflight: AppMiddleware;
}

/** Response headers a page's script may read: players look at ranges and the age of cached playlists. */
const EXPOSED = 'Content-Length, Content-Range, Accept-Ranges, Age, Date, ETag';

/**
 * CORS for what players read from other sites' pages: HLS files and the public status. `*` allows
 * every origin; otherwise an allowed Origin is echoed back, with `Vary: Origin` so that a cache
 * keeps one answer per origin. No credentials are ever allowed: nothing here needs cookies.
 */
export function cors(origins: readonly string[]): Cors {
  const anyOrigin = origins.includes('*');
  const allow = (ctx: AppContext): boolean => {
    if (anyOrigin) {
      ctx.set('Access-Control-Allow-Origin', '*');
      return true;
    }
    ctx.vary('Origin');
    const origin = ctx.get('Origin');
    if (!origins.includes(origin)) return false;
    ctx.set('Access-Control-Allow-Origin', origin);
    return true;
  };
  return {
    headers: async (ctx, next) => {
      if (allow(ctx)) ctx.set('Access-Control-Expose-Headers', EXPOSED);
      await next();
    },
    preflight: (ctx) => {
      if (allow(ctx)) {
        ctx.set('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
        ctx.set('Access-Control-Allow-Headers', 'Range');
        ctx.set('Access-Control-Max-Age', '86400');
      }
      ctx.set('Allow', 'GET, HEAD, OPTIONS');
      ctx.status = 204;
    },
  };
}
