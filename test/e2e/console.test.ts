import type { Page } from 'playwright-core';
import { artifactPath, useBrowser } from '../support/browser';
import { useTestOrigin } from '../support/origin';
import { DESKTOP, PHONE } from '../support/player-page';
import { startPublisher, type RunningProcess } from '../support/processes';
import { waitFor } from '../support/wait';

jest.setTimeout(240_000);

describe('the operator console (/console) in headless Chromium', () => {
  const env = useTestOrigin();
  const chromium = useBrowser();

  async function open(options = DESKTOP): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
    const context = await chromium.browser.newContext(options);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) errors.push(message.text());
    });
    // Every confirmation is accepted, as an operator clicking OK.
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${env.origin.urls.publicUrl}/console`);
    return { page, errors, close: () => context.close() };
  }

  /** The page as it is, at desktop and at phone width (test artifacts). */
  async function shots(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: artifactPath(`console-${name}-desktop.png`), fullPage: true });
    await page.setViewportSize(PHONE.viewport!);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: artifactPath(`console-${name}-phone.png`), fullPage: true });
    await page.setViewportSize(DESKTOP.viewport!);
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.fill('#token', token);
    await page.press('#token', 'Enter');
  }

  test('sign in; create a stream and get its key once with the OBS settings; publish; see it live with its numbers and graphs; reset its key (the publisher is cut); disable it', async () => {
    const { origin } = env;
    const response = await fetch(`${origin.urls.publicUrl}/console`);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');

    const { page, errors, close } = await open();
    // A wrong token is refused, and nothing else is shown.
    await signIn(page, 'tok_not-a-real-token-0123456789');
    await page.waitForSelector('[data-role=sign-in-error]:has-text("This token is not valid.")');
    expect(await page.isHidden('[data-role=nav]')).toBe(true);
    await shots(page, 'wrong-token');

    await signIn(page, origin.adminToken);
    await page.waitForSelector('[data-role=streams]');
    expect(await page.textContent('[data-role=who]')).toContain('admin');
    await shots(page, 'streams-empty');

    // Create: by keyboard, as an operator would (Tab to the link, Enter, type, Enter).
    await page.focus('a.brand');
    for (let i = 0; i < 20 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'New stream'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#new-name');
    await page.fill('#new-name', 'Console show');
    // The server's profiles, its configuration's included, each with what it makes.
    await page.waitForSelector('#new-profile option[value=mobile]', { state: 'attached' });
    expect(await page.locator('#new-profile option').allTextContents()).toEqual(['ladder (source, 720p, 480p, 360p)', 'passthrough (the source only)', 'mobile (540p, 270p)']);
    await page.selectOption('#new-profile', 'passthrough');
    await page.press('#new-name', 'Enter');
    await page.waitForSelector('[data-role=obs]');
    const key = (await page.textContent('[data-copy="Stream key"]'))!;
    expect(key).toMatch(/^sk_[A-Za-z0-9]{32}$/);
    const server = (await page.textContent('[data-copy="Server"]'))!;
    expect(server).toBe(`rtmp://127.0.0.1:${origin.rtmpPort}/live`);
    expect(await page.textContent('[data-role=obs]')).toContain('Keyframe Interval 2 s');
    await shots(page, 'created');
    // The key and the token stay out of every URL.
    expect(page.url()).not.toContain(key);
    expect(page.url()).not.toContain(origin.adminToken);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(origin.adminToken);

    // Publish with the key the console showed.
    let publisher: RunningProcess = startPublisher({ url: `${server}/${key}`, width: 640, height: 360 });
    await page.goto(`${origin.urls.publicUrl}/console#/streams`);
    const card = page.locator('[data-stream][data-status=live]');
    await card.waitFor({ timeout: 60_000 });
    await waitFor(async () => /Bitrate.*Keyframes/.test((await card.textContent()) ?? ''), { what: 'the bitrate and keyframe interval on the card', timeoutMs: 30_000 });
    const text = (await card.textContent())!;
    expect(text).toContain('Console show');
    expect(text).toContain('H264 640×360 @ 30 fps + AAC');
    expect(text).toMatch(/Keyframesevery 2 s/);
    expect(text).toMatch(/Uptime\d/);
    await shots(page, 'streams-live');

    // The stream's page: the player, its numbers, a graph once a sample is taken.
    await page.click('[data-stream] a.title');
    await page.waitForSelector('iframe.player-frame');
    await page.waitForFunction(() => document.querySelector('[data-graph="Ingest bitrate"] .value')?.textContent !== '–', undefined, { timeout: 40_000 });
    expect(await page.textContent('[data-role=live]')).toContain('H264 640×360');
    await shots(page, 'stream-live');

    // Reset the key: shown once, and the publisher is cut off.
    const streamId = page.url().split('/').at(-1)!;
    await page.click('[data-role=actions] >> text=Reset key');
    await page.waitForSelector('[data-role=new-key]');
    const newKey = (await page.textContent('[data-role=new-key] [data-copy="Stream key"]'))!;
    expect(newKey).not.toBe(key);
    await waitFor(() => origin.registry.getByStreamId(streamId) === undefined, { what: 'the publisher to be cut off', timeoutMs: 20_000 });
    expect((await origin.sessions.listByStream(streamId, 1))[0]?.endReason).toBe('key_reset');
    await publisher.stop();

    // Disable: the badge says so; a publish with the new key is refused.
    await page.click('[data-role=actions] >> text=Disable');
    await page.waitForSelector('h1 .status.disabled');
    expect((await origin.api('GET', `/api/v1/streams/${streamId}`)).body.enabled).toBe(false);
    publisher = startPublisher({ url: `${server}/${newKey}`, width: 320, height: 180 });
    expect((await publisher.exited).code).not.toBe(0);
    await shots(page, 'stream-disabled');
    expect(errors).toEqual([]);
    await close();

    // On a phone: the same pages, nothing wider than the screen.
    // A new browser context: a new session, signed in again.
    const phone = await open(PHONE);
    await signIn(phone.page, origin.adminToken);
    await phone.page.waitForSelector('[data-role=streams]');
    await phone.page.goto(`${origin.urls.publicUrl}/console#/streams/${streamId}`);
    await phone.page.waitForSelector('[data-role=settings]');
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await phone.page.screenshot({ path: artifactPath('console-stream-phone.png'), fullPage: true });
    await phone.close();
  });

  test('a read token gets a read-only console; signing out forgets the token', async () => {
    const { origin } = env;
    const read = (await origin.api('POST', '/api/v1/tokens', { body: { name: 'watcher', scope: 'read' } })).body.token as string;
    const stream = (await origin.api('POST', '/api/v1/streams', { body: { name: 'Looked at' } })).body as { id: string };
    const { page, errors, close } = await open();
    await signIn(page, read);
    await page.waitForSelector('[data-role=streams]');
    expect(await page.textContent('[data-role=who]')).toContain('read-only');
    expect(await page.isVisible('text=New stream')).toBe(false);
    await shots(page, 'read-only');
    await page.goto(`${origin.urls.publicUrl}/console#/streams/${stream.id}`);
    await page.waitForSelector('[data-role=settings]');
    expect(await page.locator('[data-role=actions] button').count()).toBe(0);
    expect(await page.isDisabled('#setting-profile')).toBe(true);
    expect(await page.isVisible('text=Save settings')).toBe(false);
    // Still signed in after a reload (this tab's session), signed out after Sign out.
    await page.reload();
    await page.waitForSelector('[data-role=settings]');
    await page.click('[data-role=sign-out]');
    await page.waitForSelector('[data-role=sign-in]');
    expect(await page.evaluate(() => Object.keys(sessionStorage).length)).toBe(0);
    expect(errors).toEqual([]);
    await close();
  });
});
