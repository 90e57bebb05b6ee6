import fs from 'node:fs';
import path from 'node:path';
import Router from '@koa/router';
import type { Denial } from '../../playback/playback-access';
import { PLAYBACK_ID_PATTERN } from '../../streams/keys';
import type { StreamService } from '../../streams/stream-service';
import type { AppContext, AppState } from '../context';
import { notFound } from '../errors';
import { escapeHtml, fillTemplate, renderPage } from '../page';
import type { PlaybackCheck } from '../playback-check';
import type { StreamView } from '../stream-view';

const ASSETS: Record<string, string> = {
  'player.js': 'application/javascript; charset=utf-8',
  'player.js.map': 'application/json; charset=utf-8',
  'base.css': 'text/css; charset=utf-8',
  'player.css': 'text/css; charset=utf-8',
  'console.js': 'application/javascript; charset=utf-8',
  'console.js.map': 'application/json; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

type Mode = 'watch' | 'embed';

/**
 * The viewer pages, the operator console and their bundles (built from player/ and console/ into
 * dist/player by `npm run build`).
 * `/embed/…` is the same player with less around it, meant for iframes on other sites
 * (security-headers.ts lets any site frame it, and only this origin frame `/watch/…`).
 */
export function playerRoutes(deps: { streams: StreamService; view: StreamView; check: PlaybackCheck; assetsDir: string }): Router<AppState> {
  const router = new Router<AppState>();
  const template = () => fs.promises.readFile(path.join(deps.assetsDir, 'watch.html'), 'utf8');

  const page = (mode: Mode) => async (ctx: AppContext) => {
    const playbackId = ctx.params.playbackId ?? '';
    const stream = PLAYBACK_ID_PATTERN.test(playbackId) ? await deps.streams.getByPlaybackId(playbackId) : undefined;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    if (!stream) {
      ctx.status = 404;
      ctx.body = await renderPage(deps.assetsDir, {
        title: 'Stream not found',
        mode: 'site',
        content: '<section class="notice"><h1>This stream does not exist</h1><p>Check the link, or see <a href="/">what is live now</a>.</p></section>',
      });
      return;
    }
    const access = deps.check(ctx, stream);
    if (!access.allowed) {
      // Nothing of a private stream is shown, not even its name.
      ctx.status = 403;
      ctx.body = await renderPage(deps.assetsDir, {
        title: 'Private stream',
        mode,
        content: `<section class="notice" data-role="denied" data-code="${access.code}"><h1>${DENIED_PAGES[access.code].title}</h1><p>${DENIED_PAGES[access.code].text}</p></section>`,
      });
      return;
    }
    // A token that names the pages allowed to embed the player: only they may frame it.
    if (mode === 'embed' && access.token !== undefined && access.origins)
      ctx.set('Content-Security-Policy', `${ctx.response.get('Content-Security-Policy')}; frame-ancestors ${access.origins.join(' ')}`);
    // The status rides along with the page, so the player starts loading at once.
    const status = await deps.view.public(stream, deps.streams, access.token);
    const content = fillTemplate(await template(), { name: escapeHtml(stream.name), playbackId: stream.playbackId, status: jsonForScript(status) });
    ctx.body = await renderPage(deps.assetsDir, { title: stream.name, mode, content });
  };
  router.get('/watch/:playbackId', page('watch'));
  router.get('/embed/:playbackId', page('embed'));

  // The operator console: a static page; everything it shows comes from the API with the operator's token.
  router.get('/console', async (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await fs.promises.readFile(path.join(deps.assetsDir, 'console.html'), 'utf8');
  });

  router.get('/assets/:file', async (ctx) => {
    const file = ctx.params.file ?? '';
    const type = ASSETS[file];
    if (!type) throw notFound();
    ctx.vary('Accept-Encoding');
    const asset = await compressedOrPlain(deps.assetsDir, file, ctx.acceptsEncodings('br', 'gzip', 'identity'));
    if (!asset) throw notFound();
    ctx.lastModified = asset.mtime;
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    if (asset.encoding) ctx.set('Content-Encoding', asset.encoding);
    ctx.type = type;
    ctx.length = asset.size;
    ctx.body = fs.createReadStream(asset.path);
  });

  return router;
}

const NEW_LINK = 'Ask whoever invited you for a new link.';
const WRONG_LINK = { title: 'This link does not open this stream', text: `It is not valid for this stream or this page. ${NEW_LINK}` };
const DENIED_PAGES: Record<Denial, { title: string; text: string }> = {
  token_required: { title: 'This stream is private', text: 'Watching it needs an invitation link.' },
  token_expired: { title: 'This link has expired', text: NEW_LINK },
  token_revoked: { title: 'This link no longer works', text: NEW_LINK },
  token_not_yet_valid: { title: 'Not yet', text: 'This link opens the stream later. Come back then.' },
  token_invalid: WRONG_LINK,
  token_wrong_stream: WRONG_LINK,
  origin_not_allowed: WRONG_LINK,
};

const COMPRESSED_SUFFIX: Record<string, string> = { br: '.br', gzip: '.gz' };

/**
 * The build leaves brotli and gzip copies of the bundle next to it (hls.js is most of the page's
 * weight): the one the client accepts, else the plain file.
 */
async function compressedOrPlain(dir: string, file: string, accepted: string | false) {
  const suffix = accepted ? COMPRESSED_SUFFIX[accepted] : undefined;
  const candidates: Array<{ name: string; encoding?: string }> = [{ name: file }];
  if (suffix && accepted) candidates.unshift({ name: file + suffix, encoding: accepted });
  for (const { name, encoding } of candidates) {
    const stat = await fs.promises.stat(path.join(dir, name)).catch(() => undefined);
    if (stat) return { path: path.join(dir, name), size: stat.size, mtime: stat.mtime, encoding };
  }
  return undefined;
}

/** JSON inside <script type="application/json">: `<` escaped so that no `</script>` can close it early. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
