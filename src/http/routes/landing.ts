import Router from '@koa/router';
import type { StreamService } from '../../streams/stream-service';
import type { AppState } from '../context';
import { escapeHtml, renderPage } from '../page';
import type { StreamView } from '../stream-view';

/**
 * `/`: the streams that are live now (on any node of a cluster), most watched first, each linking
 * to its player. Only what the public status already shows is listed: name, picture, viewers.
 * Signed streams are left out.
 */
export function landingRoutes(deps: { streams: StreamService; view: StreamView; assetsDir: string }): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/', async (ctx) => {
    const ids = deps.view.liveStreamIds();
    // A signed stream is for its invited viewers only: it is not listed.
    const live = ids.length === 0 ? [] : (await deps.streams.findByIds(ids)).filter((stream) => stream.playback === 'public');
    const cards = await Promise.all(live.map(async (stream) => ({ stream, status: await deps.view.public(stream) })));
    cards.sort((a, b) => b.status.viewers - a.status.viewers || a.stream.name.localeCompare(b.stream.name));
    const items = cards.map(({ stream, status }) => {
      const picture = status.posterUrl ? `<img src="${escapeHtml(status.posterUrl)}" alt="" loading="lazy">` : '';
      // No count for nobody, as on the watch page (where zero is the viewer not counted yet).
      const meta = status.viewers > 0 ? `<span class="card-meta">${viewersText(status.viewers)}</span>` : '';
      return `<li><a class="card" href="/watch/${stream.playbackId}"><span class="thumb">${picture}<span class="badge">LIVE</span></span><span class="card-title">${escapeHtml(stream.name)}</span>${meta}</a></li>`;
    });
    const content = items.length
      ? `<h1>Live now</h1><ul class="cards" data-role="live-streams">${items.join('')}</ul>`
      : '<h1>Live now</h1><p class="empty" data-role="live-streams">Nothing is live right now. Come back later.</p>';
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = await renderPage(deps.assetsDir, { title: 'Live now', mode: 'site', content });
  });
  return router;
}

function viewersText(viewers: number): string {
  return viewers === 1 ? '1 watching' : `${viewers} watching`;
}
