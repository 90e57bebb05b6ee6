import type { AppMiddleware } from './context';

/** On every answer, HLS files included (the HLS handler runs without Koa and sets these itself). */
export const BASELINE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
} as const;

/**
 * Headers that limit what a browser lets a page (or an attacker's page around it) do. The player's
 * policy allows exactly what it needs: its own script and styles, hls.js's worker and MediaSource
 * (blob: URLs), and requests to this origin (and its public URL, when pages are reached by another
 * name). `/embed` may be framed by anyone; the other pages only by this origin; the console, API
 * answers and the API reference by none.
 */
export function securityHeaders(publicUrl: string): AppMiddleware {
  const publicOrigin = new URL(publicUrl).origin;
  const page = (frameAncestors?: string) =>
    [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      `img-src 'self' data: ${publicOrigin}`,
      `media-src 'self' blob: ${publicOrigin}`,
      "worker-src 'self' blob:",
      `connect-src 'self' ${publicOrigin}`,
      "base-uri 'none'",
      "form-action 'none'",
      ...(frameAncestors ? [`frame-ancestors ${frameAncestors}`] : []),
    ].join('; ');
  const policies = {
    // No frame-ancestors at all: `*` would still refuse parents with opaque origins (sandboxed
    // iframes, file: and data: pages), and the embed is meant for anyone.
    embed: page(),
    page: page("'self'"),
    // The console: framed by nobody, and it frames only this origin's player.
    console: [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      `img-src 'self' data: ${publicOrigin}`,
      `connect-src 'self' ${publicOrigin}`,
      `frame-src 'self' ${publicOrigin}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    // swagger-ui styles its page from script.
    docs: "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    api: "default-src 'none'; frame-ancestors 'none'",
  };

  return async (ctx, next) => {
    ctx.set(BASELINE_HEADERS);
    const path = ctx.path;
    if (path.startsWith('/assets/')) return next();
    if (path.startsWith('/embed/')) {
      ctx.set('Content-Security-Policy', policies.embed);
    } else if (path === '/console') {
      ctx.set('Content-Security-Policy', policies.console);
      ctx.set('X-Frame-Options', 'DENY');
      // Its URLs carry no secret, but what the operator opens from it is nobody else's business.
      ctx.set('Referrer-Policy', 'no-referrer');
    } else if (path.startsWith('/api/docs')) {
      ctx.set('Content-Security-Policy', policies.docs);
      ctx.set('X-Frame-Options', 'DENY');
    } else if (path.startsWith('/api/') || path === '/metrics' || path === '/healthz' || path === '/readyz') {
      ctx.set('Content-Security-Policy', policies.api);
      ctx.set('X-Frame-Options', 'DENY');
    } else {
      ctx.set('Content-Security-Policy', policies.page);
      ctx.set('X-Frame-Options', 'SAMEORIGIN');
    }
    return next();
  };
}
