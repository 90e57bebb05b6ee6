import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileCache } from '../../src/http/file-cache';

/** Checks the disk on every read, as the origin does once its revalidation window has passed. */
const everyRead = { revalidateMs: 0, idleMs: Infinity, now: () => performance.now() };

describe('FileCache', () => {
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'file-cache-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const text = async (cache: FileCache, name: string) => {
    const found = await cache.read(root, [name]);
    if (!found) return undefined;
    if (!('bytes' in found)) throw new Error('expected the file in memory');
    return found.bytes.toString('utf8');
  };

  test('a playlist replaced by a rename is read again, never served stale', async () => {
    const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 1 << 20, ...everyRead });
    fs.writeFileSync(path.join(root, 'index.m3u8'), '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n');
    expect(await text(cache, 'index.m3u8')).toBe('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n');
    const first = await cache.read(root, ['index.m3u8']);
    expect(await cache.read(root, ['index.m3u8'])).toBe(first);

    // Same length, new inode: as the segment collector and ffmpeg write playlists.
    fs.writeFileSync(path.join(root, 'index.m3u8.tmp'), '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:2\n');
    fs.renameSync(path.join(root, 'index.m3u8.tmp'), path.join(root, 'index.m3u8'));
    expect(await text(cache, 'index.m3u8')).toBe('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:2\n');
  });

  test('a file rewritten in place with the same length is read again', async () => {
    const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 1 << 20, ...everyRead });
    const file = path.join(root, 'poster.jpg');
    fs.writeFileSync(file, 'aaaa');
    expect(await text(cache, 'poster.jpg')).toBe('aaaa');
    fs.writeFileSync(file, 'bbbb');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(await text(cache, 'poster.jpg')).toBe('bbbb');
  });

  test('a deleted file is gone', async () => {
    const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 1 << 20, ...everyRead });
    fs.writeFileSync(path.join(root, 'seg_1.ts'), 'x');
    expect(await text(cache, 'seg_1.ts')).toBe('x');
    fs.rmSync(path.join(root, 'seg_1.ts'));
    expect(await cache.read(root, ['seg_1.ts'])).toBeUndefined();
    expect(cache.sizeBytes).toBe(0);
  });

  test('keeps within its size, dropping the least recently read first', async () => {
    const cache = new FileCache({ maxBytes: 250, maxFileBytes: 1000, ...everyRead });
    for (const name of ['a', 'b', 'c']) fs.writeFileSync(path.join(root, name), Buffer.alloc(100, name));
    await cache.read(root, ['a']);
    await cache.read(root, ['b']);
    await cache.read(root, ['a']);
    await cache.read(root, ['c']);
    expect(cache.sizeBytes).toBe(200);
    // b went; a and c are served from memory (the same buffers).
    const [a, c] = [await cache.read(root, ['a']), await cache.read(root, ['c'])];
    expect(await cache.read(root, ['a'])).toBe(a);
    expect(await cache.read(root, ['c'])).toBe(c);
    expect(cache.sizeBytes).toBe(200);
  });

  test('a file over the per-file limit comes back open, to be streamed', async () => {
    const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 10, ...everyRead });
    fs.writeFileSync(path.join(root, 'big.ts'), Buffer.alloc(100));
    const [one, two] = await Promise.all([cache.read(root, ['big.ts']), cache.read(root, ['big.ts'])]);
    for (const found of [one, two]) {
      if (!found || !('handle' in found)) throw new Error('expected an open file');
      expect(found.size).toBe(100);
      await found.handle.close();
    }
    expect(cache.sizeBytes).toBe(0);
  });

  test('a symbolic link out of the folder is not followed', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'file-cache-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'secret'), 'secret');
      fs.symlinkSync(path.join(outside, 'secret'), path.join(root, 'seg_9.ts'));
      const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 1 << 20, ...everyRead });
      expect(await cache.read(root, ['seg_9.ts'])).toBeUndefined();
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  test('within the revalidation window the disk is not asked; after it, a change is seen', async () => {
    let now = 1000;
    const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 1 << 20, revalidateMs: 10, idleMs: Infinity, now: () => now });
    fs.writeFileSync(path.join(root, 'index.m3u8'), '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n');
    expect(await text(cache, 'index.m3u8')).toBe('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n');
    fs.writeFileSync(path.join(root, 'index.m3u8.tmp'), '#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:2\n');
    fs.renameSync(path.join(root, 'index.m3u8.tmp'), path.join(root, 'index.m3u8'));
    now += 9;
    expect(await text(cache, 'index.m3u8')).toBe('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n');
    now += 1;
    expect(await text(cache, 'index.m3u8')).toBe('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:2\n');

    // A confirmed entry starts a new window; a deletion is seen once it ends.
    fs.rmSync(path.join(root, 'index.m3u8'));
    now += 5;
    expect(await text(cache, 'index.m3u8')).toBe('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:2\n');
    now += 5;
    expect(await cache.read(root, ['index.m3u8'])).toBeUndefined();
  });

  test('files not read for the idle time go when another is loaded, however much room is left', async () => {
    let now = 1000;
    const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 1 << 20, revalidateMs: 10, idleMs: 60_000, now: () => now });
    for (const name of ['seg_1.ts', 'seg_2.ts', 'index.m3u8', 'seg_3.ts']) fs.writeFileSync(path.join(root, name), Buffer.alloc(100, name));
    const first = await cache.read(root, ['seg_1.ts']);
    now += 20_000;
    const second = await cache.read(root, ['seg_2.ts']);
    await cache.read(root, ['index.m3u8']);
    now += 30_000;
    // Read again: confirmed, so its idle time starts over.
    await cache.read(root, ['index.m3u8']);
    expect(cache.sizeBytes).toBe(300);

    // seg_1 was last read 60 s before this load, seg_2 50 s before: seg_1 goes.
    now += 10_000;
    await cache.read(root, ['seg_3.ts']);
    expect(cache.sizeBytes).toBe(300);
    expect(await cache.read(root, ['seg_2.ts'])).toBe(second);
    expect(await cache.read(root, ['seg_1.ts'])).not.toBe(first);
  });
});
