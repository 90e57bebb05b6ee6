import { artifactPath, useBrowser } from '../support/browser';
import { createStream, useTestOrigin } from '../support/origin';
import { startPublisher } from '../support/processes';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

describe('the watch page in headless Chromium', () => {
  const env = useTestOrigin();
  const chromium = useBrowser();

  test('an offline stream says so instead of showing an error', async () => {
    const { origin } = env;
    const { browser } = chromium;
    const stream = await createStream(origin, 'Quiet channel');
    const page = await browser.newPage();
    await page.goto(`${origin.urls.publicUrl}/watch/${stream.playbackId}`);
    await page.waitForFunction(() => document.querySelector('[data-role=message]')?.textContent?.includes('offline'));
    expect(await page.textContent('h1')).toBe('Quiet channel');
    await page.screenshot({ path: artifactPath('watch-offline.png') });
    await page.close();
  });

  test('during a push the video plays: currentTime advances by at least 3 seconds; the ladder is offered', async () => {
    const { origin } = env;
    const { browser } = chromium;
    const stream = await createStream(origin, 'Live in the browser');
    startPublisher({ url: origin.rtmpUrl(stream.streamKey) });
    await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'the stream to be live', timeoutMs: 20_000 });

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin.urls.publicUrl}/watch/${stream.playbackId}`);
    const video = page.locator('video');
    await page.waitForFunction(() => (document.querySelector('video')?.currentTime ?? 0) > 0.5, undefined, { timeout: 20_000 });
    const start = await video.evaluate((element: HTMLVideoElement) => element.currentTime);
    await page.waitForFunction((from) => (document.querySelector('video')?.currentTime ?? 0) >= from + 3, start, { timeout: 15_000 });
    const options = await page.locator('[data-role=quality] option').allTextContents();
    expect(options).toEqual(['Auto', '720p', '480p', '360p']);
    expect(await page.locator('[data-role=badge]').isVisible()).toBe(true);
    await page.screenshot({ path: artifactPath('watch-playing.png') });
    expect(errors).toEqual([]);
    await page.close();
  });
});
