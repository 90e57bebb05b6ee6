import fs from 'node:fs';
import { artifactPath, useBrowser } from '../support/browser';
import { createStream, useTestOrigin, type TestOrigin } from '../support/origin';
import { DESKTOP, PHONE, inside, labelsOf, layoutOf, openPlayer } from '../support/player-page';
import { startPublisher } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(150_000);

async function goLive(origin: TestOrigin, name: string, size: { width: number; height: number } = { width: 1280, height: 720 }, settings: Record<string, unknown> = {}) {
  const stream = await createStream(origin, name, settings);
  startPublisher({ url: origin.rtmpUrl(stream.streamKey), ...size });
  await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'the stream to be live', timeoutMs: 30_000 });
  return stream;
}

describe('the watch page in headless Chromium', () => {
  const env = useTestOrigin();
  const chromium = useBrowser();

  /** Waits until the first rendition's playlist lists `segments` segments. */
  async function windowOf(playbackId: string, segments: number, timeoutMs: number) {
    const master = await waitFor(() => env.hls.master(playbackId), { what: 'the master', timeoutMs: 20_000 });
    const firstRendition = env.hls.resolve(env.hls.masterUrl(playbackId), master.variants[0]!.uri);
    await waitFor(async () => (await env.hls.media(firstRendition)).segments.length >= segments, { what: `${segments} segments`, timeoutMs });
  }

  test('plays on desktop and phone: the picture advances, the layout fits, each page is one viewer', async () => {
    const { origin } = env;
    const stream = await goLive(origin, 'Live in the browser');
    const url = `${origin.urls.publicUrl}/watch/${stream.playbackId}`;

    const desktop = await openPlayer(chromium.browser, url, DESKTOP);
    await desktop.page.waitForFunction(() => performance.getEntriesByName('first-frame').length > 0, undefined, { timeout: 30_000 });
    const firstFrameMs = await desktop.page.evaluate(() => performance.getEntriesByName('first-frame')[0]!.startTime);
    await desktop.playsFor(3);
    await desktop.isPlaying();
    expect(await desktop.page.isVisible('[data-role=badge]')).toBe(true);
    expect(await desktop.page.textContent('h1')).toBe('Live in the browser');
    expect((await desktop.page.locator('[data-role=quality-menu] [role=menuitemradio]').allTextContents()).slice(1)).toEqual(['720p', '480p', '360p']);
    expect(await desktop.page.isHidden('[data-role=overlay]')).toBe(true);
    fs.writeFileSync(
      artifactPath('startup.json'),
      JSON.stringify({ firstFrameMs: Math.round(firstFrameMs), note: 'navigation start to the first video frame, live 720p ladder, headless Chromium, loopback' }, null, 2),
    );

    const wide = await layoutOf(desktop.page);
    expect(wide.scrollWidth).toBeLessThanOrEqual(wide.viewport.width);
    expect(wide.player.height).toBeLessThanOrEqual(wide.viewport.height);
    expect(Math.abs(wide.player.width / wide.player.height - 16 / 9)).toBeLessThan(0.02);
    expect(wide.controls.map((c) => c.role)).toEqual(['play', 'mute', 'live-edge', 'quality', 'stats-toggle', 'fullscreen']);
    for (const control of wide.controls) expect(inside(control.box, wide.player)).toBe(true);
    await desktop.page.screenshot({ path: artifactPath('watch-desktop.png') });

    const phone = await openPlayer(chromium.browser, url, PHONE);
    await phone.playsFor(3);
    const narrow = await layoutOf(phone.page);
    expect(narrow.scrollWidth).toBeLessThanOrEqual(narrow.viewport.width);
    // The picture from edge to edge, the title above it, every control inside it and big enough to tap
    expect(narrow.player.x).toBe(0);
    expect(narrow.player.width).toBe(narrow.viewport.width);
    expect(narrow.title!.y + narrow.title!.height).toBeLessThanOrEqual(narrow.player.y);
    expect(narrow.controls.map((c) => c.role)).toEqual(['play', 'mute', 'live-edge', 'quality', 'stats-toggle', 'fullscreen']);
    for (const control of narrow.controls) {
      expect(inside(control.box, narrow.player)).toBe(true);
      expect(control.box.height).toBeGreaterThanOrEqual(36);
    }
    await phone.page.screenshot({ path: artifactPath('watch-phone.png') });
    // Behind live the live button says so and offers the way back: still inside the picture.
    await phone.page.click('[data-role=play]');
    await phone.page.waitForFunction(() => document.querySelector('[data-role=live-edge]')!.classList.contains('behind'), undefined, { timeout: 15_000 });
    const behind = await layoutOf(phone.page);
    expect(behind.controls.map((c) => c.role)).toEqual(['play', 'mute', 'live-edge', 'quality', 'stats-toggle', 'fullscreen']);
    for (const control of behind.controls) expect(inside(control.box, behind.player)).toBe(true);
    await phone.page.screenshot({ path: artifactPath('watch-phone-behind-live.png') });
    await phone.page.click('[data-role=live-edge]');
    await phone.page.waitForFunction(() => !document.querySelector('video')!.paused, undefined, { timeout: 10_000 });

    // Two pages, two player sessions: two viewers, shown on the page.
    await waitFor(() => origin.viewers.count(stream.playbackId) === 2, { what: 'two viewers', timeoutMs: 10_000 });
    await desktop.page.waitForFunction(() => document.querySelector('[data-role=viewers]')?.textContent === '2 watching', undefined, { timeout: 15_000 });
    expect(desktop.errors).toEqual([]);
    expect(phone.errors).toEqual([]);
    await phone.close();
    await desktop.close();
  });

  test("low latency: hls.js sits the playlist's PART-HOLD-BACK behind the live edge and the stats show it against its target", async () => {
    const { origin } = env;
    const stream = await goLive(origin, 'Low latency', { width: 640, height: 360 }, { profile: 'passthrough' });
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, DESKTOP);
    await player.playsFor(8);
    await player.page.click('[data-role=stats-toggle]');
    const latency = await player.page.waitForFunction(
      () => {
        const text = document.querySelector('[data-stat=latency]')?.textContent ?? '';
        return /^[\d.]+ s \(target [\d.]+ s\)$/.test(text) ? text : undefined;
      },
      undefined,
      { timeout: 10_000 },
    );
    const [, seconds, target] = /^([\d.]+) s \(target ([\d.]+) s\)$/.exec((await latency.jsonValue()) as string)!;
    // PART-HOLD-BACK: three parts of 0.334 s; hls.js adds a second for each stall it had, which a
    // loaded machine can cause.
    expect([1, 2, 3]).toContain(Number(target));
    // Generous: a loaded machine starts players late; hls.js then catches up by playing faster.
    expect(Number(seconds)).toBeLessThan(4);
    await player.page.screenshot({ path: artifactPath('watch-low-latency-stats.png') });
    expect(player.errors).toEqual([]);
    await player.close();
    await origin.registry.stopStream(stream.id, 'kicked');
  });

  test('a player whose first segments come late starts at its place behind live, not that much further back', async () => {
    const { origin } = env;
    // Passthrough: nothing here needs the ladder, and its encoding would load the machine for the other suites.
    const stream = await goLive(origin, 'Slow start', undefined, { profile: 'passthrough' });
    // A window of segments to start in, as for a viewer joining a stream that is already running.
    await windowOf(stream.playbackId, 5, 30_000);
    // The first segments answered 4 s late, as on a slow network or a busy phone: hls.js has
    // chosen where to start by then, and the live edge has moved on by two segments.
    let delayed = 0;
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, PHONE, (page) =>
      page.route(/seg_\d+(\.\d+)?\.m4s(\?|$)/, async (route) => {
        if (delayed < 2) {
          delayed += 1;
          await sleep(4000);
        }
        await route.continue();
      }),
    );
    await player.page.waitForFunction(() => performance.getEntriesByName('first-frame').length > 0, undefined, { timeout: 30_000 });
    expect(delayed).toBe(2);
    // The live control says whether the player is behind its place (by more than 2.5 s). Started
    // 4 s late, hls.js alone would take about 40 s to catch up, playing 10% faster.
    const atItsPlace = () => player.page.waitForFunction(() => document.querySelector('[data-role=live-edge]')!.classList.contains('at-edge'), undefined, { timeout: 8000 });
    await atItsPlace();
    // And it stays there, playing: it did not move to a place it could not play from.
    await player.playsFor(3);
    await atItsPlace();
    await player.isPlaying();
    expect(player.errors).toEqual([]);
    await player.close();
  });

  test('a first picture that comes slowly: hls.js switches down while it waits, and the page throws nothing', async () => {
    const { origin } = env;
    const stream = await goLive(origin, 'Slow first picture');
    // A window long enough for delta updates (CAN-SKIP-UNTIL is six target durations): hls.js
    // switches down while it handles a playlist reload, and that reload is a delta update.
    await windowOf(stream.playbackId, 8, 60_000);
    // The video's parts are slow to come, as on a phone's network, so the audio waits for the
    // video's first timestamps; the lower rendition's first playlist is slow too, so hls.js goes on
    // with the delta update it could not merge for a while (player/src/delta-update.ts).
    let releaseVideo!: () => void;
    const videoHeld = new Promise<void>((resolve) => (releaseVideo = resolve));
    const playlists: string[] = [];
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, DESKTOP, async (page) => {
      await page.route(/\/sessions\/\w+\/(?!audio\/)[\w-]+\/seg_\d+(\.\d+)?\.m4s(\?|$)/, async (route) => {
        await videoHeld;
        await route.continue().catch(() => {});
      });
      await page.route(/\/sessions\/\w+\/(?!audio\/)[\w-]+\/index\.m3u8/, async (route) => {
        const rendition = /\/([\w-]+)\/index\.m3u8/.exec(route.request().url())![1]!;
        if (playlists.length > 0 && !playlists.includes(rendition)) await sleep(2000);
        playlists.push(rendition);
        await route.continue().catch(() => {});
      });
    });
    await waitFor(() => new Set(playlists).size >= 2, { what: 'hls.js to switch rendition while the video is slow', timeoutMs: 30_000 });
    releaseVideo();
    await player.playsFor(3);
    await player.isPlaying();
    expect(player.errors).toEqual([]);
    await player.close();
  });

  test('the quality menu switches to each rendition, and back to Auto', async () => {
    const { origin } = env;
    const stream = await goLive(origin, 'Ladder in the browser');
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, DESKTOP);
    await player.playsFor(2);
    const items = '[data-role=quality-menu] [role=menuitemradio]';
    // A rendition's label exactly: "360p" is also in "Auto (360p)".
    const pick = async (text: string) => {
      await player.page.click('[data-role=quality]');
      await player.page.click(text === 'Auto' ? `${items} >> text=Auto` : `${items} >> text="${text}"`);
    };
    for (const text of (await player.page.locator(items).allTextContents()).slice(1)) {
      const height = Number(text.replace('p', ''));
      await pick(text);
      await player.page.waitForFunction((h) => document.querySelector('video')!.videoHeight === h, height, { timeout: 30_000 });
      await player.playsFor(2);
      expect(await player.page.evaluate(() => document.querySelector('video')!.videoHeight)).toBe(height);
      await player.isPlaying(10_000);
    }
    await pick('Auto');
    await player.page.waitForFunction(() => /^Auto \(\d+p\)$/.test(document.querySelector('[data-role=quality]')!.textContent ?? ''), undefined, { timeout: 30_000 });
    await player.playsFor(2);

    // By keyboard: ↓ opens the menu at the current choice, ↓ moves, Enter picks; the volume is left alone.
    const { page } = player;
    await page.focus('[data-role=quality]');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-checked') === 'true' && document.activeElement.textContent!.startsWith('Auto'));
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    expect(await page.isHidden('[data-role=quality-menu]')).toBe(true);
    expect(await page.evaluate(() => [document.activeElement!.getAttribute('data-role'), document.activeElement!.textContent, document.querySelector('video')!.volume])).toEqual([
      'quality',
      '720p',
      1,
    ]);
    expect(player.errors).toEqual([]);
    await player.close();
  });

  test('on a phone the quality control and its menu fit: every label whole, every item on the screen', async () => {
    const { origin } = env;
    const stream = await goLive(origin, 'Ladder on a phone');
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, PHONE);
    const { page } = player;
    await player.playsFor(2);
    // Paused, the live button says GO LIVE: the bar at its fullest.
    await page.click('[data-role=play]');
    await page.waitForFunction(() => document.querySelector('[data-role=live-edge]')!.classList.contains('behind'), undefined, { timeout: 15_000 });
    const screen = { x: 0, y: 0, ...page.viewportSize()! };
    const [control] = await labelsOf(page, '[data-role=quality]');
    expect(control).toMatchObject({ whole: true });
    expect(inside(control!.box, screen)).toBe(true);

    await page.click('[data-role=quality]');
    await page.waitForSelector('[data-role=quality-menu] [role=menuitemradio]', { state: 'visible', timeout: 5000 });
    const items = await labelsOf(page, '[data-role=quality-menu] [role=menuitemradio]');
    const menu = (await page.locator('[data-role=quality-menu]').boundingBox())!;
    expect(items.map((item) => item.text)).toEqual([expect.stringMatching(/^Auto \(\d+p\)$/), '720p', '480p', '360p']);
    for (const item of items) {
      expect(item).toMatchObject({ whole: true });
      // On the screen, and in the menu's view without scrolling.
      expect(inside(item.box, screen)).toBe(true);
      expect(inside(item.box, menu)).toBe(true);
      expect(item.box.height).toBeGreaterThanOrEqual(36);
    }
    await page.screenshot({ path: artifactPath('watch-phone-quality-menu.png') });

    // Exactly "360p": Auto's label is "Auto (360p)" when that is what it picked.
    await page.click('[data-role=quality-menu] [role=menuitemradio] >> text="360p"');
    expect(await page.isHidden('[data-role=quality-menu]')).toBe(true);
    expect(await labelsOf(page, '[data-role=quality]')).toEqual([expect.objectContaining({ text: '360p', whole: true })]);
    await page.click('[data-role=play]');
    await page.waitForFunction(() => document.querySelector('video')!.videoHeight === 360, undefined, { timeout: 30_000 });
    expect(player.errors).toEqual([]);
    await player.close();
  });

  test('keyboard, stats overlay and the live edge: behind live it says so, and "go live" comes back', async () => {
    const { origin } = env;
    const stream = await goLive(origin, 'Keys', { width: 640, height: 360 });
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, DESKTOP);
    const { page } = player;
    await player.playsFor(3);
    const video = () =>
      page.evaluate(() => ({ muted: document.querySelector('video')!.muted, paused: document.querySelector('video')!.paused, volume: document.querySelector('video')!.volume }));

    await page.keyboard.press('m');
    expect((await video()).muted).toBe(false);
    await page.keyboard.press('ArrowDown');
    expect((await video()).volume).toBeCloseTo(0.9);
    await page.keyboard.press('m');
    expect((await video()).muted).toBe(true);
    await page.keyboard.press(' ');
    expect((await video()).paused).toBe(true);
    expect(await player.state()).toBe('paused');
    await page.keyboard.press(' ');
    await page.waitForFunction(() => !document.querySelector('video')!.paused);

    // Every control is reachable with Tab, in order (one rendition here: the quality menu is disabled
    // and skipped). The live button is a control only while behind live, which a viewer who has just
    // paused and resumed may be, for as long as the catch-up takes: then it comes after the volume.
    await page.focus('[data-role=play]');
    const focused: string[] = [];
    while (focused.length < 6 && focused.at(-1) !== 'stats-toggle') {
      focused.push(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.role ?? ''));
      await page.keyboard.press('Tab');
    }
    expect(focused.filter((role) => role !== 'live-edge')).toEqual(['play', 'mute', 'volume', 'stats-toggle']);
    if (focused.includes('live-edge')) expect(focused.indexOf('live-edge')).toBe(3);
    await page.evaluate(() => (document.activeElement as HTMLElement).blur());

    await page.keyboard.press('i');
    await page.waitForFunction(() => document.querySelector('[data-stat=latency]')?.textContent?.includes('target'));
    const stats = await page.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll<HTMLElement>('[data-stat]')).map((e) => [e.dataset.stat, e.textContent])));
    expect(stats.rendition).toBe('640×360');
    expect(stats.bitrate).toMatch(/Mbit\/s$/);
    expect(stats.buffer).toMatch(/^\d+\.\d s$/);
    expect(stats.dropped).toMatch(/^\d+ of \d+$/);
    expect(stats.engine).toMatch(/^hls\.js /);

    // Back 5 s twice, once the live window is long enough for that: behind live, which the live
    // button shows; it brings the viewer back.
    await page.waitForFunction(() => document.querySelector('video')!.currentTime > 12, undefined, { timeout: 30_000 });
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(() => document.querySelector('[data-role=live-edge]')!.classList.contains('behind'), undefined, { timeout: 10_000 });
    const label = await page.textContent('[data-role=live-label]');
    expect(label).toMatch(/^−\d+ s · GO LIVE$/);
    expect(Number(/−(\d+)/.exec(label!)![1])).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: artifactPath('watch-behind-live-stats.png') });
    await page.click('[data-role=live-edge]');
    await page.waitForFunction(() => document.querySelector('[data-role=live-edge]')!.classList.contains('at-edge'), undefined, { timeout: 10_000 });
    expect(await page.textContent('[data-role=live-label]')).toBe('LIVE');

    // Paused, the live edge moves on: the button counts how far behind, and takes the viewer back.
    await page.keyboard.press(' ');
    await page.waitForFunction(() => document.querySelector('[data-role=live-edge]')!.classList.contains('behind'), undefined, { timeout: 15_000 });
    await page.click('[data-role=live-edge]');
    await page.waitForFunction(() => !document.querySelector('video')!.paused && document.querySelector('[data-role=live-edge]')!.classList.contains('at-edge'), undefined, {
      timeout: 10_000,
    });

    await page.keyboard.press('f');
    await page.waitForFunction(() => document.fullscreenElement?.id === 'player', undefined, { timeout: 5000 });
    await page.keyboard.press('f');
    await page.waitForFunction(() => document.fullscreenElement === null, undefined, { timeout: 5000 });
    await player.playsFor(1);
    expect(player.errors).toEqual([]);
    await player.close();
  });
});
