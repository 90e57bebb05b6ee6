import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import { PLAYBACK_ID_PATTERN } from '../../streams/keys';
import type { StreamService } from '../../streams/stream-service';
import type { AppState } from '../context';
import { notFound } from '../errors';

const ASSETS: Record<string, string> = {
  'player.js': 'application/javascript; charset=utf-8',
  'player.js.map': 'application/json; charset=utf-8',
  'player.css': 'text/css; charset=utf-8',
};

/** The viewer page and its bundle (built from player/ into dist/player by `npm run build`). */
export function playerRoutes(deps: { streams: StreamService; assetsDir: string }): Router<AppState> {
  const router = new Router<AppState>();
  const template = () => fs.promises.readFile(path.join(deps.assetsDir, 'watch.html'), 'utf8');

  router.get('/watch/:playbackId', async (ctx) => {
    const playbackId = ctx.params.playbackId ?? '';
    const stream = PLAYBACK_ID_PATTERN.test(playbackId) ? await deps.streams.getByPlaybackId(playbackId) : undefined;
    if (!stream) throw notFound('No stream with this playback id.');
    const html = (await template()).replaceAll('{{name}}', escapeHtml(stream.name)).replaceAll('{{playbackId}}', stream.playbackId);
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = html;
  });

  router.get('/assets/:file', async (ctx) => {
    const file = ctx.params.file ?? '';
    const type = ASSETS[file];
    if (!type) throw notFound();
    const fullPath = path.join(deps.assetsDir, file);
    try {
      const stat = await fs.promises.stat(fullPath);
      ctx.lastModified = stat.mtime;
    } catch {
      throw notFound();
    }
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = fs.createReadStream(fullPath);
  });

  return router;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
