import { bodyParser } from '@koa/bodyparser';
import type { ZodType } from 'zod';
import { ApiError } from './errors';
import type { AppContext, AppMiddleware } from './context';

const parse = bodyParser({ enableTypes: ['json'], jsonLimit: '64kb', encoding: 'utf-8' });

/** JSON bodies only: another content type is a 415, more than 64 KiB a 413, broken JSON a 400. */
export function jsonBody(): AppMiddleware {
  return async (ctx, next) => {
    const hasBody = ctx.request.length > 0 || ctx.get('transfer-encoding') !== '';
    if (hasBody && !ctx.is('application/json')) {
      throw new ApiError(415, 'unsupported_media_type', 'Send the request body as JSON with "Content-Type: application/json".');
    }
    await parse(ctx as never, next);
  };
}

/** Validates the parsed body; unknown fields are refused by the (strict) schemas. */
export function validBody<T>(ctx: AppContext, schema: ZodType<T>): T {
  const body = (ctx.request as { body?: unknown }).body;
  const result = schema.safeParse(body === undefined ? {} : body);
  if (!result.success) {
    const details = result.error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || '(body)', message: issue.message }));
    const first = details[0];
    throw new ApiError(400, 'invalid_body', first ? `${first.field}: ${first.message}` : 'Invalid request body.', details);
  }
  return result.data;
}
