import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseRange } from './byte-range';
import type { AppContext } from './context';

export interface OpenedFile {
  handle: FileHandle;
  size: number;
  mtime: Date;
  mtimeMs: number;
  ino: number;
  /** Strong: a new inode (atomic rename), size or modification time makes a new tag. */
  etag: string;
}

/**
 * Opens `root/...parts` for reading if it is a regular file whose real path is inside `root`: a
 * symbolic link that leads out of the folder is treated like a missing file. The caller has
 * already refused parts with separators or dots; this is the second line of defence.
 */
export async function openInside(root: string, parts: readonly string[]): Promise<OpenedFile | undefined> {
  let handle: FileHandle | undefined;
  try {
    const [realRoot, realFile] = await Promise.all([fs.realpath(root), fs.realpath(path.join(root, ...parts))]);
    if (!realFile.startsWith(realRoot + path.sep)) return undefined;
    handle = await fs.open(realFile, 'r');
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      return undefined;
    }
    const etag = `"${[stat.ino, stat.size, Math.round(stat.mtimeMs * 1000)].map((n) => n.toString(36)).join('-')}"`;
    return { handle, size: stat.size, mtime: stat.mtime, mtimeMs: stat.mtimeMs, ino: stat.ino, etag };
  } catch (error) {
    await handle?.close();
    if (['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'EISDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
}

export interface Representation {
  contentType: string;
  cacheControl: string;
  size: number;
  etag: string;
  /** Left out where one-second resolution could call a changed file unchanged. */
  lastModified?: Date;
  /** The bytes in memory, or an open file that this function streams from and closes. */
  body: Buffer | FileHandle;
}

/**
 * Answers a GET or HEAD with validators, 304 for a fresh conditional request, and single byte
 * ranges (206, or 416 past the end; If-Range falls back to the whole file when it no longer matches).
 */
export function sendRepresentation(ctx: AppContext, rep: Representation): void {
  ctx.set('Cache-Control', rep.cacheControl);
  ctx.set('Accept-Ranges', 'bytes');
  ctx.etag = rep.etag;
  if (rep.lastModified) ctx.lastModified = rep.lastModified;
  // Koa's freshness check only looks at 2xx answers, and a status is 404 until one is set.
  ctx.status = 200;
  if (ctx.fresh) {
    ctx.status = 304;
    return release(rep.body);
  }

  const wanted = ctx.method === 'GET' && ifRangeMatches(ctx, rep) ? parseRange(ctx.get('Range') || undefined, rep.size) : { kind: 'whole' as const };
  if (wanted.kind === 'unsatisfiable') {
    ctx.status = 416;
    ctx.set('Content-Range', `bytes */${rep.size}`);
    // Not null: Koa turns a null body into a 204.
    ctx.body = '';
    return release(rep.body);
  }
  ctx.type = rep.contentType;
  const start = wanted.kind === 'range' ? wanted.start : 0;
  const end = wanted.kind === 'range' ? wanted.end : rep.size - 1;
  if (wanted.kind === 'range') {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${start}-${end}/${rep.size}`);
  }
  if (ctx.method === 'HEAD') {
    ctx.length = rep.size;
    return release(rep.body);
  }
  if (Buffer.isBuffer(rep.body)) {
    ctx.body = rep.body.subarray(start, end + 1);
    return;
  }
  if (rep.size === 0) {
    // No byte to read, and a stream ending at byte -1 is an error.
    ctx.body = Buffer.alloc(0);
    return release(rep.body);
  }
  ctx.length = end - start + 1;
  ctx.body = rep.body.createReadStream({ start, end });
}

/** If-Range: the range applies only to the representation the client already has (strong match). */
function ifRangeMatches(ctx: AppContext, rep: Representation): boolean {
  const condition = ctx.get('If-Range');
  if (!condition) return true;
  if (condition.startsWith('"') || condition.startsWith('W/')) return condition === rep.etag;
  return rep.lastModified !== undefined && Date.parse(condition) === Math.floor(rep.lastModified.getTime() / 1000) * 1000;
}

function release(body: Buffer | FileHandle): void {
  if (!Buffer.isBuffer(body)) void body.close().catch(() => undefined);
}
