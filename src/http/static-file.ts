import crypto from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream';
import fresh from 'fresh';
import { parseRange } from './byte-range';

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
 * `headers` ([name, value, …], as writeHead takes them) are sent with every answer: CORS, request id.
 * Returns the status and body bytes sent.
 */
/** A strong validator from a body's bytes. */
export function digestEtag(body: Buffer): string {
  return `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

export function sendRepresentation(req: IncomingMessage, res: ServerResponse, headers: readonly string[], rep: Representation): { status: number; bytes: number } {
  const validators = ['Cache-Control', rep.cacheControl, 'Accept-Ranges', 'bytes', 'ETag', rep.etag];
  const lastModified = rep.lastModified?.toUTCString();
  if (lastModified) validators.push('Last-Modified', lastModified);
  const answer = (status: number, extra: readonly string[], body?: Buffer) => {
    res.writeHead(status, [...headers, ...validators, ...extra]);
    res.end(body);
    if (!Buffer.isBuffer(rep.body)) void rep.body.close().catch(() => undefined);
    return { status, bytes: body?.length ?? 0 };
  };

  if (fresh(req.headers, { etag: rep.etag, 'last-modified': lastModified })) return answer(304, []);

  const wanted = req.method === 'GET' && ifRangeMatches(req, rep) ? parseRange(req.headers.range, rep.size) : { kind: 'whole' as const };
  if (wanted.kind === 'unsatisfiable') return answer(416, ['Content-Range', `bytes */${rep.size}`, 'Content-Length', '0']);
  const [start, end] = wanted.kind === 'range' ? [wanted.start, wanted.end] : [0, rep.size - 1];
  const length = end - start + 1;
  const status = wanted.kind === 'range' ? 206 : 200;
  const entity = ['Content-Type', rep.contentType, 'Content-Length', String(length)];
  if (wanted.kind === 'range') entity.push('Content-Range', `bytes ${start}-${end}/${rep.size}`);

  if (req.method === 'HEAD') return answer(status, entity);
  if (Buffer.isBuffer(rep.body)) return answer(status, entity, wanted.kind === 'range' ? rep.body.subarray(start, end + 1) : rep.body);
  // No byte to read, and a stream ending at byte -1 is an error.
  if (length === 0) return answer(status, entity, Buffer.alloc(0));
  res.writeHead(status, [...headers, ...validators, ...entity]);
  // The stream closes the file when it ends or fails; a failure mid-body cuts the connection.
  pipeline(rep.body.createReadStream({ start, end }), res, () => undefined);
  return { status, bytes: length };
}

const pairsOfList = new WeakMap<object, readonly string[]>();

/**
 * A header list as the flat [name, value, …] list writeHead takes, worked out once per list object
 * (which must not change afterwards): the security headers and the CORS headers of most answers are
 * the same object every time: spreading lists into one object per answer cost more than the
 * rest of a playlist answer.
 */
export function headerPairs(list: Readonly<Record<string, string>>): readonly string[] {
  let pairs = pairsOfList.get(list);
  if (!pairs) {
    pairs = Object.entries(list).flat();
    pairsOfList.set(list, pairs);
  }
  return pairs;
}

/** A request header's value; of one repeated, the first. */
export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** If-Range: the range applies only to the representation the client already has (strong match). */
function ifRangeMatches(req: IncomingMessage, rep: Representation): boolean {
  const condition = headerValue(req, 'if-range');
  if (!condition) return true;
  if (condition.startsWith('"') || condition.startsWith('W/')) return condition === rep.etag;
  return rep.lastModified !== undefined && Date.parse(condition) === Math.floor(rep.lastModified.getTime() / 1000) * 1000;
}
