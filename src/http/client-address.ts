import type { IncomingMessage } from 'node:http';
import { headerValue } from './static-file';

/** As Koa's ctx.ip: behind a trusted proxy, the first address of X-Forwarded-For. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? headerValue(req, 'x-forwarded-for')?.split(',')[0]?.trim() : undefined;
  return forwarded || (req.socket.remoteAddress ?? '');
}
