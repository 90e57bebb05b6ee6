import type http from 'node:http';
import type { FailureGuard } from '../security/failure-guard';
import type { Principal, TokenService } from '../streams/token-service';
import { ApiError } from './errors';
import type { AppMiddleware } from './context';

/** Another node of the cluster, passing on a request it has authenticated (read routes only). */
const PEER: Principal = { tokenId: 'peer', name: 'cluster peer', scope: 'read' };

/**
 * Bearer-token authentication: sets the principal, or answers 401. Scopes are checked per route.
 * An address that keeps presenting bad tokens gets 429s for a while, so tokens cannot be guessed.
 */
export function authenticate(tokens: TokenService, guard: FailureGuard, fromPeer?: (req: http.IncomingMessage) => boolean): AppMiddleware {
  return async (ctx, next) => {
    if (fromPeer?.(ctx.req)) {
      ctx.state.principal = PEER;
      return next();
    }
    const verdict = guard.verdict(ctx.ip);
    if (verdict.blocked) {
      ctx.set('Retry-After', String(Math.ceil(verdict.retryAfterMs / 1000)));
      throw new ApiError(429, 'too_many_requests', 'Too many failed authentication attempts from this address; try again later.');
    }
    const refuse = (message: string, challenge: string) => {
      if (guard.recordFailure(ctx.ip)) ctx.state.log.warn({ client: ctx.ip }, 'too many failed authentications: this address is refused for a while');
      ctx.set('WWW-Authenticate', challenge);
      return new ApiError(401, 'unauthorized', message);
    };
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      // A request that sends no credentials at all guesses nothing: it is not counted.
      if (!header) {
        ctx.set('WWW-Authenticate', 'Bearer');
        throw new ApiError(401, 'unauthorized', 'An API token is required: send "Authorization: Bearer <token>".');
      }
      throw refuse('The Authorization header must be "Bearer <token>".', 'Bearer');
    }
    const principal = await tokens.authenticate(match[1]);
    if (!principal) throw refuse('The API token is not valid.', 'Bearer error="invalid_token"');
    ctx.state.principal = principal;
    await next();
  };
}
