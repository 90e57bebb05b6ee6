import type { TokenService } from '../streams/token-service';
import { ApiError } from './errors';
import type { AppMiddleware } from './context';

/** Bearer-token authentication: sets the principal, or answers 401. Scopes are checked per route. */
export function authenticate(tokens: TokenService): AppMiddleware {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new ApiError(401, 'unauthorized', header ? 'The Authorization header must be "Bearer <token>".' : 'An API token is required: send "Authorization: Bearer <token>".');
    }
    const principal = await tokens.authenticate(match[1]);
    if (!principal) {
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new ApiError(401, 'unauthorized', 'The API token is not valid.');
    }
    ctx.state.principal = principal;
    await next();
  };
}
