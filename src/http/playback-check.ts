import type { Access, PlaybackAccess } from '../playback/playback-access';
import { TOKEN_PARAM } from '../playback/playback-access';
import type { StreamRecord } from '../streams/stream-repository';
import type { AppContext } from './context';

export type PlaybackCheck = (ctx: AppContext, stream: StreamRecord) => Access;

/**
 * For Koa's pages and statuses: the stream's own record says whether it is signed (it was just
 * read), the request's `token` parameter and Origin header whether this viewer may see it.
 */
export function playbackCheck(access: Pick<PlaybackAccess, 'checkToken'>, now: () => number): PlaybackCheck {
  return (ctx, stream) => {
    if (stream.playback === 'public') return { allowed: true };
    return access.checkToken(stream.playbackId, queryToken(ctx), ctx.get('Origin') || undefined, now());
  };
}

/** The `token` parameter; the first, when a URL has several (as the HLS handler reads it). */
export function queryToken(ctx: AppContext): string | undefined {
  const token = ctx.query[TOKEN_PARAM];
  return Array.isArray(token) ? token[0] : token;
}
