import fs from 'node:fs';
import { openInside, type OpenedFile } from './static-file';

export interface CachedFile {
  bytes: Buffer;
  size: number;
  mtime: Date;
  /** As openInside's: the file's identity (inode, size, modification time). */
  etag: string;
}

interface Entry extends CachedFile {
  ino: number;
  mtimeMs: number;
  /** When the disk last confirmed this entry (options.now). */
  checkedAt: number;
}

export interface FileCacheOptions {
  /** The cache's whole size; the least recently read files go first. */
  maxBytes: number;
  /** Larger files are not kept: the caller streams them from disk. */
  maxFileBytes: number;
  /**
   * An entry confirmed by the disk this recently is served without asking again: under load, one
   * stat per file per window instead of one per request. 0 checks every read.
   */
  revalidateMs: number;
  /**
   * An entry not read for this long goes when the next file is loaded. A live segment is read by
   * its viewers within seconds of being written and never again once it leaves the playlist, so
   * without this the cache fills up to maxBytes with segments long deleted from the disk.
   */
  idleMs: number;
  now: () => number;
}

/**
 * Recently read files in memory, checked against the disk at most revalidateMs before a read.
 * Viewers of a live stream all ask for the same few files: a stat now and then replaces the open,
 * read and close through the thread pool per request (docs/decisions.md). A file replaced
 * by a rename, or rewritten, has a new inode, size or modification time and is read again, through
 * openInside's checks.
 */
export class FileCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry | 'large' | undefined>>();
  private bytes = 0;

  constructor(private readonly options: FileCacheOptions) {}

  /**
   * The file `root/...parts` (same rules as openInside): from memory when unchanged, else read.
   * A file over maxFileBytes comes back open, for the caller to stream and close.
   */
  async read(root: string, parts: readonly string[]): Promise<CachedFile | OpenedFile | undefined> {
    const key = fileKey(root, parts);
    const cached = this.cached(key);
    if (cached) return cached;
    // Viewers ask for a new segment all at once: one of them reads it.
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(key, root, parts).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    const loaded = await pending;
    return loaded === 'large' ? openInside(root, parts) : loaded;
  }

  /**
   * The file from memory if it is there and unchanged, without a promise: a request for it can be
   * answered within the same tick (docs/decisions.md). `key`: fileKey(root, parts).
   */
  cached(key: string): CachedFile | undefined {
    const cached = this.entries.get(key);
    if (!cached) return undefined;
    const now = this.options.now();
    if (now - cached.checkedAt < this.options.revalidateMs) return cached;
    if (!unchangedOnDisk(key, cached)) {
      this.forget(key);
      return undefined;
    }
    cached.checkedAt = now;
    // Most recently used last: updated when the disk is asked, at most once per revalidateMs.
    this.entries.delete(key);
    this.entries.set(key, cached);
    return cached;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  private async load(key: string, root: string, parts: readonly string[]): Promise<Entry | 'large' | undefined> {
    const opened = await openInside(root, parts);
    if (!opened) return undefined;
    let bytes: Buffer | undefined;
    try {
      if (opened.size <= this.options.maxFileBytes) bytes = await opened.handle.readFile();
    } finally {
      await opened.handle.close();
    }
    if (!bytes) return 'large';
    const entry: Entry = { bytes, size: bytes.length, mtime: opened.mtime, etag: opened.etag, ino: opened.ino, mtimeMs: opened.mtimeMs, checkedAt: this.options.now() };
    // Written to while being read: serve what was read, keep nothing.
    if (bytes.length !== opened.size) return entry;
    this.entries.set(key, entry);
    this.bytes += entry.size;
    // Least recently confirmed first (cached() moves an entry to the end when it confirms it).
    for (const [oldest, { checkedAt }] of this.entries) {
      if (this.bytes <= this.options.maxBytes && entry.checkedAt - checkedAt < this.options.idleMs) break;
      this.forget(oldest);
    }
    return entry;
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.size;
  }
}

/** Segments are a few megabytes at most; anything larger is streamed from disk. */
const MAX_CACHED_FILE_BYTES = 16 * 2 ** 20;
/**
 * How stale a cached HLS file may be: a playlist rewritten on disk is served within this long.
 * Far below a player's reload interval; under load it turns a stat per request into one per window.
 */
const HLS_REVALIDATE_MS = 10;
/**
 * Far longer than a live segment stays in its playlist (listSize × segmentSeconds, 12 s by
 * default) plus a player's buffer behind the live edge.
 */
const HLS_IDLE_MS = 60_000;

/** The HLS route's cache, in the origin and in each delivery process. */
export function hlsFileCache(megabytes: number): FileCache {
  return new FileCache({ maxBytes: megabytes * 2 ** 20, maxFileBytes: MAX_CACHED_FILE_BYTES, revalidateMs: HLS_REVALIDATE_MS, idleMs: HLS_IDLE_MS, now: () => performance.now() });
}

/** The file's path: the cache's key. Not path.join: its normalising showed in the playlist path's profile, and the parts are plain names. */
export function fileKey(root: string, parts: readonly string[]): string {
  return `${root}/${parts.join('/')}`;
}

/**
 * Synchronous on purpose: a stat of a file the kernel has cached takes microseconds, far less than
 * the round trip through the thread pool that its promise costs the event loop.
 */
function unchangedOnDisk(file: string, entry: Entry): boolean {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat !== undefined && stat.ino === entry.ino && stat.size === entry.size && stat.mtimeMs === entry.mtimeMs;
}
