import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { PLAYBACK_ID_PATTERN } from '../../streams/keys';
import type { MediaLayout } from '../../hls/media-layout';
import type { AppState } from '../context';
import { notFound } from '../errors';

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.jpg': 'image/jpeg',
};

/** A path part we may have written: no leading dot, no separators, nothing encoded. */
const SAFE_PART = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;
const MAX_DEPTH = 4;

/** Serves HLS files by playback id; anything that is not plainly a file of that stream is a 404. */
export function hlsRoutes(layout: MediaLayout): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/hls/:playbackId/*rest', async (ctx) => {
    const playbackId = ctx.params.playbackId ?? '';
    const parts = (ctx.params.rest ?? '').split('/');
    if (!PLAYBACK_ID_PATTERN.test(playbackId) || parts.length > MAX_DEPTH || !parts.every((part) => SAFE_PART.test(part) && !part.includes('..'))) {
      throw notFound();
    }
    const root = layout.streamDir(playbackId);
    const file = path.join(root, ...parts);
    const contentType = CONTENT_TYPES[path.extname(file)];
    if (!contentType || !file.startsWith(root + path.sep)) throw notFound();

    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(file);
    } catch {
      throw notFound();
    }
    if (!stat.isFile()) throw notFound();

    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Cache-Control', cacheControl(parts));
    ctx.lastModified = stat.mtime;
    ctx.etag = `W/"${stat.size.toString(16)}-${stat.mtimeMs.toString(16)}"`;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = contentType;
    ctx.length = stat.size;
    ctx.body = fs.createReadStream(file);
  });
  return router;
}

function cacheControl(parts: string[]): string {
  const name = parts[parts.length - 1] ?? '';
  if (name.endsWith('.ts') || name.endsWith('.m4s')) return 'public, max-age=31536000, immutable';
  if (name === 'master.m3u8') return 'public, max-age=2';
  if (name.endsWith('.m3u8')) return 'public, max-age=1';
  return 'public, max-age=5';
}
