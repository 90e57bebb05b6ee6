import { artifactPath, useBrowser } from '../support/browser';
import { createStream, useTestOrigin, type TestOrigin } from '../support/origin';
import { DESKTOP, PHONE, averageColour, openPlayer, type PlayerPage } from '../support/player-page';
import { startPublisher } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(150_000);

const SMALL = { width: 640, height: 360 } as const;

/** A new stream, pushed by the test publisher, once it is live. */
async function liveStream(origin: TestOrigin, name: string) {
  const stream = await createStream(origin, name);
  const publisher = startPublisher({ url: origin.rtmpUrl(stream.streamKey), ...SMALL });
  await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'live', timeoutMs: 30_000 });
  return { stream, publisher };
}

/** Whether the picture in the player's top left corner (away from the notice) is mostly this colour. */
async function shows(player: PlayerPage, colour: 'red' | 'blue'): Promise<boolean> {
  const box = (await player.page.locator('#player').boundingBox())!;
  const [red, green, blue] = averageColour(await player.page.screenshot({ clip: { x: box.x, y: box.y, width: box.width / 4, height: box.height / 4 } }));
  const [mine, other] = colour === 'red' ? [red, blue] : [blue, red];
  return mine > 2 * Math.max(other, green) && mine > 40;
}

/** Messages the player may show; anything else in the overlay would be an error leaking through. */
const OUR_MESSAGES = /^(|Loading…|Buffering…|Reconnecting…|This stream is not live right now\..*|Press play to start\.|Thanks for watching\..*)$/;

describe('the player follows the stream: offline, live, ended, back again', () => {
  const env = useTestOrigin({ overrides: { hls: { posterIntervalSeconds: 2 } } });
  const chromium = useBrowser();

  test('an offline page says so, then starts playing by itself when the stream goes live', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Quiet channel');
    for (const [name, size] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, size);
      await player.page.waitForFunction(() => document.getElementById('player')?.dataset.state === 'offline');
      expect(await player.page.textContent('[data-role=title]')).toBe('Offline');
      expect(await player.page.isHidden('[data-role=controls]')).toBe(true);
      expect(await player.page.isHidden('[data-role=badge]')).toBe(true);
      await player.page.screenshot({ path: artifactPath(`watch-offline-${name}.png`) });
      await player.close();
    }

    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`);
    await player.page.waitForFunction(() => document.getElementById('player')?.dataset.state === 'offline');
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), ...SMALL });
    // The status is polled every 5 s: live within a poll of the stream's master appearing.
    await player.page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 1, undefined, { timeout: 45_000 });
    await player.playsFor(3);
    await player.isPlaying();
    expect(await player.page.isVisible('[data-role=badge]')).toBe(true);
    // The page came with the status: offline from the first paint, no loading spinner first.
    expect((await player.states()).slice(0, 2)).toEqual(['offline', 'loading']);
    await player.page.screenshot({ path: artifactPath('watch-started-by-itself.png') });
    expect(player.errors).toEqual([]);
    await player.close();
  });

  test('a stream that ends shows "stream ended" with its last picture, and plays again when it comes back', async () => {
    const { origin } = env;
    const { stream, publisher: first } = await liveStream(origin, 'Short show');
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`);
    await player.playsFor(4);
    await waitFor(async () => (await origin.api('GET', `/api/v1/public/streams/${stream.playbackId}`, { token: null })).body.posterUrl, { what: 'a poster', timeoutMs: 15_000 });

    // The streamer stops (what OBS's "Stop Streaming" does): the playlists end at once.
    await first.stop();
    await player.page.waitForFunction(() => document.getElementById('player')?.dataset.state === 'ended', undefined, { timeout: 40_000 });
    expect(await player.page.textContent('[data-role=title]')).toBe('Stream ended');
    // Its last picture stays, once the status (polled every 5 s) has named it.
    await player.page.waitForFunction(() => document.querySelector('video')!.poster.includes('/poster.jpg?v='), undefined, { timeout: 15_000 });
    await sleep(1500);
    await player.page.screenshot({ path: artifactPath('watch-ended.png') });
    expect(await player.page.isHidden('[data-role=badge]')).toBe(true);

    startPublisher({ url: origin.rtmpUrl(stream.streamKey), ...SMALL });
    await player.isPlaying(45_000);
    await player.playsFor(3);
    const states = await player.states();
    expect(states).toContain('ended');
    expect(states.slice(states.lastIndexOf('ended'))).toContain('playing');
    expect(player.errors).toEqual([]);
    await player.close();
  });

  test("each session's end shows that session's last picture, at an address of its own that may be cached", async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Two shows');
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`);
    const posters: string[] = [];
    for (const colour of ['red', 'blue'] as const) {
      const publisher = startPublisher({ url: origin.rtmpUrl(stream.streamKey), ...SMALL, colour });
      await player.isPlaying(45_000);
      await player.playsFor(3);
      await publisher.stop();
      await player.page.waitForFunction(() => document.getElementById('player')?.dataset.state === 'ended', undefined, { timeout: 40_000 });
      // Once the status (polled every 5 s) names the ended session's picture, the player shows it.
      await waitFor(() => shows(player, colour), { what: `the ${colour} session's picture`, timeoutMs: 30_000 });
      await player.page.screenshot({ path: artifactPath(`watch-ended-${colour}.png`) });
      const status = (await origin.api('GET', `/api/v1/public/streams/${stream.playbackId}`, { token: null })).body as { posterUrl: string };
      // The picture may have shown at the live address first: the player takes the ended session's own at its next poll.
      await player.page.waitForFunction((url) => document.querySelector('video')!.poster === url, status.posterUrl, { timeout: 15_000 });
      posters.push(status.posterUrl);
    }
    // A picture's address is its own: the same address twice is the same picture, with headers that let it be cached.
    expect(new Set(posters).size).toBe(2);
    const [first, again] = [await fetch(posters[1]!), await fetch(posters[1]!)];
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/jpeg');
    expect(first.headers.get('cache-control')).toMatch(/^public, max-age=[1-9]/);
    expect(first.headers.get('etag')).toBeTruthy();
    expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(player.errors).toEqual([]);
    await player.close();
  });

  test('a paused viewer is told that the stream ended too', async () => {
    const { origin } = env;
    const { stream, publisher } = await liveStream(origin, 'Paused at the end');
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, PHONE);
    await player.playsFor(3);
    await player.page.click('[data-role=play]');
    await player.page.waitForFunction(() => document.getElementById('player')?.dataset.state === 'paused', undefined, { timeout: 10_000 });

    await publisher.stop();
    // The status is polled every 5 s; a paused video never reaches the playlists' end by itself.
    await player.page.waitForFunction(() => document.getElementById('player')?.dataset.state === 'ended', undefined, { timeout: 40_000 });
    expect(await player.page.textContent('[data-role=title]')).toBe('Stream ended');
    await player.page.screenshot({ path: artifactPath('watch-ended-while-paused-phone.png') });
    expect(player.errors).toEqual([]);
    await player.close();
  });

  test('a network outage: the page says it is reconnecting, never shows an error, and plays again by itself', async () => {
    const { origin } = env;
    const { stream } = await liveStream(origin, 'Bad network');
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`);
    await player.playsFor(3);

    // Every HLS request fails for 25 s: longer than hls.js's own retries, so its errors turn fatal.
    const messages = new Set<string>();
    const collect = setInterval(
      () =>
        void player.page
          .textContent('[data-role=message]')
          .then((text) => messages.add(text ?? ''))
          .catch(() => undefined),
      250,
    );
    await player.page.route('**/hls/**', (route) => route.abort('connectionreset'));
    await player.page.waitForFunction(() => ['buffering', 'recovering'].includes(document.getElementById('player')!.dataset.state ?? ''), undefined, { timeout: 30_000 });
    await sleep(25_000);
    await player.page.screenshot({ path: artifactPath('watch-network-outage.png') });
    await player.page.unroute('**/hls/**');

    await player.isPlaying(60_000);
    await player.playsFor(3);
    clearInterval(collect);
    expect(await player.states()).toContain('recovering');
    for (const message of messages) expect(message).toMatch(OUR_MESSAGES);
    expect(player.errors).toEqual([]);
    await player.close();
  });
});

describe('embeds and the landing page', () => {
  const env = useTestOrigin();
  const chromium = useBrowser();

  test('/embed plays inside an iframe of another site; / lists the live streams with links to their players', async () => {
    const { origin } = env;
    const live = await createStream(origin, 'On air <now>');
    const idle = await createStream(origin, 'Not on air');
    startPublisher({ url: origin.rtmpUrl(live.streamKey), ...SMALL });
    await waitFor(() => origin.registry.getByStreamId(live.id)?.state === 'live', { what: 'live', timeoutMs: 30_000 });

    // Another site's page (here: no origin at all) with the documented embed snippet.
    const context = await chromium.browser.newContext(DESKTOP);
    const host = await context.newPage();
    const errors: string[] = [];
    host.on('pageerror', (error) => errors.push(error.message));
    await host.setContent(
      `<body style="margin:0;background:#fff"><h2>A blog post</h2><iframe src="${origin.urls.publicUrl}/embed/${live.playbackId}" width="640" height="360" style="border:0" allow="autoplay; fullscreen" allowfullscreen></iframe></body>`,
    );
    const frame = await waitFor(() => host.frames().find((f) => f.url().includes('/embed/')), { what: 'the iframe' });
    await frame.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 3, undefined, { timeout: 45_000 });
    // A busy machine may catch it rebuffering for a moment: it is playing again soon after.
    await frame.waitForFunction(() => document.getElementById('player')?.dataset.state === 'playing', undefined, { timeout: 30_000 });
    expect(await frame.isHidden('.title-bar')).toBe(true);
    const video = await frame.evaluate(() => {
      const box = document.getElementById('player')!.getBoundingClientRect();
      return { width: box.width, height: box.height, state: document.getElementById('player')!.dataset.state };
    });
    expect(video).toEqual({ width: 640, height: 360, state: 'playing' });
    await host.screenshot({ path: artifactPath('embed-in-iframe.png') });
    expect(errors).toEqual([]);

    await waitFor(async () => (await origin.api('GET', `/api/v1/public/streams/${live.playbackId}`, { token: null })).body.posterUrl, { what: 'a poster', timeoutMs: 20_000 });
    const landing = await context.newPage();
    await landing.goto(`${origin.urls.publicUrl}/`);
    await landing.waitForFunction(() => (document.querySelector<HTMLImageElement>('[data-role=live-streams] img')?.naturalWidth ?? 0) > 0, undefined, { timeout: 10_000 });
    const cards = await landing.locator('[data-role=live-streams] a').evaluateAll((links) => links.map((a) => ({ href: a.getAttribute('href'), text: a.textContent })));
    expect(cards).toEqual([{ href: `/watch/${live.playbackId}`, text: expect.stringContaining('On air <now>') }]);
    expect(await landing.content()).not.toContain(idle.playbackId);
    await landing.screenshot({ path: artifactPath('landing.png') });
    await landing.click('[data-role=live-streams] a');
    await landing.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 1, undefined, { timeout: 45_000 });
    expect(landing.url()).toBe(`${origin.urls.publicUrl}/watch/${live.playbackId}`);
    await context.close();
  });

  test('the landing page, like the watch page, shows a count only once someone watches: never "0 watching"', async () => {
    const { origin } = env;
    const { stream } = await liveStream(origin, 'Nobody yet');
    const context = await chromium.browser.newContext(DESKTOP);
    const landing = await context.newPage();
    await landing.goto(`${origin.urls.publicUrl}/`);
    const card = landing.locator(`[data-role=live-streams] a[href="/watch/${stream.playbackId}"]`);
    expect(await card.textContent()).toBe('LIVENobody yet');

    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`);
    await player.playsFor(2);
    await player.page.waitForFunction(() => document.querySelector('[data-role=viewers]')?.textContent === '1 watching', undefined, { timeout: 15_000 });
    await landing.reload();
    expect(await card.textContent()).toBe('LIVENobody yet1 watching');
    await player.close();
    await context.close();
  });
});
