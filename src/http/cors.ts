import type { AppMiddleware } from './context';

export type HeaderList = Readonly<Record<string, string>>;

export interface Cors {
  /** The CORS headers of any answer to a request that came with this Origin header. */
  answerHeaders(origin: string | undefined): HeaderList;
  /** The headers of the answer to a preflight (OPTIONS) request, whose status is 204. */
  preflightHeaders(origin: string | undefined): HeaderList;
  /** Koa: adds answerHeaders to every response of the routes it is used on. */
  headers: AppMiddleware;
  /** Koa: answers a preflight request. */
  preflight: AppMiddleware;
}

/** Response headers a page's script may read: players look at ranges and the age of cached playlists. */
const EXPOSED = 'Content-Length, Content-Range, Accept-Ranges, Age, Date, ETag';
const PREFLIGHT = { 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Allow-Headers': 'Range', 'Access-Control-Max-Age': '86400' };
const ALLOW = { Allow: 'GET, HEAD, OPTIONS' };

/**
 * CORS for what players read from other sites' pages: HLS files and the public status. `*` allows
 * every origin; otherwise an allowed Origin is echoed back, with `Vary: Origin` so that a cache
 * keeps one answer per origin. No credentials are ever allowed: nothing here needs cookies.
 * The header lists are plain objects so that the HLS handler, which runs without Koa, sets the same.
 */
export function cors(origins: readonly string[]): Cors {
  const anyOrigin = origins.includes('*');
  // Built once: every playlist and segment answer carries them.
  const toAny = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSED };
  const preflightToAny = { ...toAny, ...PREFLIGHT, ...ALLOW };
  const refused = { Vary: 'Origin' };
  const preflightRefused = { ...refused, ...ALLOW };

  const allowed = (origin: string | undefined): origin is string => origin !== undefined && origins.includes(origin);
  const answerHeaders = (origin: string | undefined): HeaderList => {
    if (anyOrigin) return toAny;
    return allowed(origin) ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': EXPOSED, Vary: 'Origin' } : refused;
  };
  const preflightHeaders = (origin: string | undefined): HeaderList => {
    if (anyOrigin) return preflightToAny;
    return allowed(origin) ? { ...answerHeaders(origin), ...PREFLIGHT, ...ALLOW } : preflightRefused;
  };

  const setAll = (ctx: Parameters<AppMiddleware>[0], headers: HeaderList) => {
    // Vary may already name other headers: add to it rather than replace it.
    for (const [name, value] of Object.entries(headers)) {
      if (name === 'Vary') ctx.vary(value);
      else ctx.set(name, value);
    }
  };
  return {
    answerHeaders,
    preflightHeaders,
    headers: async (ctx, next) => {
      setAll(ctx, answerHeaders(ctx.get('Origin') || undefined));
      await next();
    },
    preflight: (ctx) => {
      setAll(ctx, preflightHeaders(ctx.get('Origin') || undefined));
      ctx.status = 204;
    },
  };
}
