import type Koa from 'koa';
import { isDatabaseUnavailable } from '../db/availability';
import type { Logger } from '../observability/logger';
import type { Denial } from '../playback/playback-access';

export type ErrorCode =
  | 'bad_request'
  | 'invalid_body'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'too_many_requests'
  | 'service_unavailable'
  | 'internal_error'
  | Denial;

/** An error that is meant for the client: its message is safe to show. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what = 'Not found') => new ApiError(404, 'not_found', what);

/** A signed stream's resource asked for without a valid token (src/playback/playback-access.ts). */
export const playbackDenied = (denial: { code: Denial; message: string }) => new ApiError(403, denial.code, denial.message);

/** The JSON body of every error answer. */
export function errorBody(code: ErrorCode, message: string, details?: unknown) {
  return { error: { code, message, ...(details !== undefined && { details }) } };
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

const CLIENT_ERROR_MESSAGES: Record<number, string> = {
  400: 'The request body is not valid JSON.',
  413: 'The request body is too large.',
  415: 'Unsupported content type.',
};

/**
 * Every error leaves as `{ "error": { "code", "message", "details"? } }`. Errors not raised as
 * ApiError (a bug, the database) are logged and answered with a generic 500: no stack trace or SQL
 * reaches a client.
 */
export function errorMiddleware(logger: Logger, onDatabaseUnavailable: () => void = () => undefined): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) throw notFound();
      if (ctx.status === 405 && ctx.body == null) throw new ApiError(405, 'method_not_allowed', `${ctx.method} is not allowed here.`);
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        onDatabaseUnavailable();
        logger.warn({ err: (error as Error).message, method: ctx.method, path: ctx.path }, 'database unavailable');
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.set('Cache-Control', 'no-store');
        ctx.body = errorBody('service_unavailable', 'The database is unavailable; try again shortly.');
        return;
      }
      const { status, body } = toResponse(error, ctx, logger);
      ctx.status = status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = body;
    }
  };
}

function toResponse(error: unknown, ctx: Koa.Context, logger: Logger) {
  if (error instanceof ApiError) {
    return { status: error.status, body: errorBody(error.code, error.message, error.details) };
  }
  // Errors from the body parser carry a 4xx status; their own messages are not shown, ours are.
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = STATUS_CODES[status] ?? 'bad_request';
    return { status, body: errorBody(code, CLIENT_ERROR_MESSAGES[status] ?? 'Bad request.') };
  }
  logger.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
  return { status: 500, body: errorBody('internal_error', 'Internal server error.') };
}
