import type { Page, PagePosition } from '../db/page';
import { ApiError } from './errors';

/** Cursors are opaque to clients: a base64url of the position, validated on the way back in. */
export function encodeCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.at, position.id])).toString('base64url');
}

export function decodeCursor(value: unknown): PagePosition | undefined {
  if (value === undefined) return undefined;
  try {
    if (typeof value !== 'string' || value.length > 200) throw new Error('bad');
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && Number.isSafeInteger(parsed[0]) && typeof parsed[1] === 'string' && /^[A-Za-z0-9]{1,32}$/.test(parsed[1])) {
      return { at: parsed[0] as number, id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw new ApiError(400, 'bad_request', 'cursor is not valid; use the nextCursor of a previous answer.');
}

export function parseLimit(value: unknown, fallback = 50, max = 100): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new ApiError(400, 'bad_request', `limit must be a whole number from 1 to ${max}.`);
  }
  return Number(value);
}

/** The JSON shape of every list: `{ data, nextCursor }`. */
export function pageBody<T, V>(page: Page<T>, view: (item: T) => V): { data: V[]; nextCursor: string | null } {
  return { data: page.items.map(view), nextCursor: page.next ? encodeCursor(page.next) : null };
}
