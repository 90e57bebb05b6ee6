import type { TokenService } from '../streams/token-service';
import type { TokenScope } from '../streams/token-repository';
import { ApiError } from './errors';
import type { AppMiddleware } from './context';

/** Bearer-token authentication; `admin` tokens may do everything a `read` token may. */
export function requireScope(tokens: TokenService, scope: TokenScope): AppMiddleware {
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
    if (scope === 'admin' && principal.scope !== 'admin') {
      throw new ApiError(403, 'forbidden', 'This token has read access only.');
    }
    ctx.state.principal = principal;
    await next();
  };
}
