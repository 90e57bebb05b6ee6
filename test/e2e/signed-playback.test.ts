import jwt from 'jsonwebtoken';
import { artifactPath, useBrowser } from '../support/browser';
import { createStream, useTestOrigin } from '../support/origin';
import { DESKTOP, PHONE, openPlayer } from '../support/player-page';
import { startPublisher } from '../support/processes';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

describe('a signed stream in headless Chromium', () => {
  const env = useTestOrigin();
  const chromium = useBrowser();

  test('hls.js plays it from a tokenised watch link; without a token the page says it is private; when the token expires mid-stream the player stops and says why', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Members only', { profile: 'passthrough', playback: 'signed' });
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'the stream to be live', timeoutMs: 30_000 });

    // A token from the API: the watch link plays, and every media request carries the token.
    const minted = (await origin.api('POST', `/api/v1/streams/${stream.id}/playback-tokens`, { body: { expiresInSeconds: 600, viewerId: 'member-1' } })).body;
    const hlsRequests: string[] = [];
    const desktop = await openPlayer(chromium.browser, minted.playerUrl, DESKTOP, (page) =>
      page.route('**/hls/**', (route) => {
        hlsRequests.push(route.request().url());
        return route.continue();
      }),
    );
    await desktop.playsFor(3);
    await desktop.isPlaying();
    expect(hlsRequests.length).toBeGreaterThan(10);
    expect(hlsRequests.filter((url) => new URL(url).searchParams.get('token') !== minted.token)).toEqual([]);
    expect(hlsRequests.some((url) => url.includes('.m4s'))).toBe(true);
    expect(await desktop.page.textContent('h1')).toBe('Members only');
    await desktop.page.screenshot({ path: artifactPath('signed-playing.png') });
    // Counted by its token's viewer id.
    await waitFor(() => origin.viewers.count(stream.playbackId) === 1, { what: 'one viewer', timeoutMs: 15_000 });
    expect(desktop.errors).toEqual([]);
    await desktop.close();

    // No token: the page names nothing and says why.
    const bare = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, PHONE);
    expect(await bare.page.textContent('h1')).toBe('This stream is private');
    expect(await bare.page.content()).not.toContain('Members only');
    await bare.page.screenshot({ path: artifactPath('signed-no-token-phone.png') });
    await bare.close();

    // A token minted by a customer's backend that runs out 20 s from now (its expiry is 30 s of
    // clock allowance earlier): it plays, then the origin refuses the next requests and the player
    // says the link has expired.
    const key = (await origin.api('POST', '/api/v1/playback-keys', { body: { name: 'backend' } })).body;
    const exp = Math.floor(Date.now() / 1000) - 10;
    const short = jwt.sign({ exp, pid: stream.playbackId }, Buffer.from(key.secret, 'base64url'), { algorithm: 'HS256', keyid: key.id });
    const expiring = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}?token=${short}`, DESKTOP);
    await expiring.playsFor(2);
    await expiring.page.waitForFunction(() => document.getElementById('player')?.dataset.state === 'expired', undefined, { timeout: 90_000 });
    expect(Date.now() / 1000).toBeGreaterThan(exp + 30);
    expect(await expiring.page.textContent('[data-role=overlay]')).toContain('Your link to this private stream has expired');
    expect(await expiring.states()).toEqual(expect.arrayContaining(['playing', 'expired']));
    await expiring.page.screenshot({ path: artifactPath('signed-expired.png') });
    expect(expiring.errors).toEqual([]);
    await expiring.close();
    await origin.registry.stopStream(stream.id, 'kicked');
  });

  test('an embed token naming its pages may be framed only by them', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Embedded', { playback: 'signed' });
    const minted = (await origin.api('POST', `/api/v1/streams/${stream.id}/playback-tokens`, { body: { expiresInSeconds: 600, origins: ['https://school.example'] } })).body;
    const embed = await fetch(`${origin.urls.publicUrl}/embed/${stream.playbackId}?token=${minted.token}`);
    expect(embed.status).toBe(200);
    expect(embed.headers.get('content-security-policy')).toMatch(/frame-ancestors https:\/\/school\.example$/);
    // Asked from another page (a browser sends its Origin), the stream is refused.
    const status = await fetch(`${origin.urls.publicUrl}/api/v1/public/streams/${stream.playbackId}?token=${minted.token}`, { headers: { origin: 'https://elsewhere.example' } });
    expect(status.status).toBe(403);
    expect((await status.json()).error.code).toBe('origin_not_allowed');
  });
});
