import { artifactPath, useBrowser } from '../support/browser';
import { createStream, useTestOrigin } from '../support/origin';
import type { Browser } from 'playwright-core';
import { openPlayer, type PlayerPage } from '../support/player-page';
import { ffmpegProcessesMentioning, startPublisher } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(120_000);

/** A viewer who, once the stream plays, picks the rendition this tall. */
async function watchRendition(browser: Browser, url: string, height: number): Promise<PlayerPage> {
  const player = await openPlayer(browser, url);
  await player.playsFor(2);
  await player.page.click('[data-role=quality]');
  await player.page.click(`[data-role=quality-menu] [role=menuitemradio] >> text="${height}p"`);
  await player.page.waitForFunction((tall) => document.querySelector('video')!.videoHeight === tall, height, { timeout: 30_000 });
  return player;
}

describe('a publisher reconnect seen from the player', () => {
  const env = useTestOrigin();
  const chromium = useBrowser();

  // Passthrough is remuxed in the origin, the ladder runs in ffmpeg: both must carry a player over.
  test.each(['ladder', 'passthrough'])('%s: keeps playing across the drop and the return (a discontinuity), without reloading, as one viewer', async (profile) => {
    const { origin } = env;
    const stream = await createStream(origin, 'Flaky uplink');
    await origin.db('streams').where({ id: stream.id }).update({ reconnect_window_seconds: 15, profile });
    const first = startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'live', timeoutMs: 20_000 });
    expect(origin.registry.getByStreamId(stream.id)!.info().profile).toBe(profile);

    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`);
    const { page } = player;
    let masterLoads = 0;
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('/master.m3u8')) masterLoads += 1;
    });
    await page.waitForFunction(() => document.querySelector('video')!.currentTime > 3, undefined, { timeout: 30_000 });
    const loadsBefore = masterLoads;

    first.child.kill('SIGKILL');
    const atDrop = await player.currentTime();
    await sleep(2000);
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });

    // Well past what was buffered at the drop: media from the second publisher is playing.
    await page.waitForFunction((from) => document.querySelector('video')!.currentTime > from + 12, atDrop, { timeout: 45_000 });
    expect(masterLoads).toBe(loadsBefore);
    await player.isPlaying();
    const states = await player.states();
    expect(states).not.toContain('ended');
    expect(states).not.toContain('recovering');
    expect(await page.textContent('[data-role=message]')).not.toContain('ended');
    expect(origin.registry.getByStreamId(stream.id)?.info().reconnects).toBe(1);
    expect(origin.viewers.count(stream.playbackId)).toBe(1);
    await page.screenshot({ path: artifactPath(`watch-after-reconnect-${profile}.png`) });
    expect(player.errors).toEqual([]);
    await player.close();
  });

  test('a viewer of an encoded rendition plays on across a stalled transcoder: the time it lost is a gap the player fills from another rendition', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Stalling encoder');
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 1280, height: 720 });
    await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'live', timeoutMs: 20_000 });
    const session = origin.registry.getByStreamId(stream.id)!;
    const player = await watchRendition(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, 480);
    const { page } = player;

    const [transcoder] = ffmpegProcessesMentioning(origin.dir);
    process.kill(transcoder!, 'SIGSTOP');
    const atStall = await player.currentTime();
    try {
      await waitFor(() => session.info().transcoderRestarts >= 1, { what: 'the stalled transcoder to be replaced', timeoutMs: 30_000 });
    } finally {
      process.kill(transcoder!, 'SIGCONT');
    }
    const gaps = async () =>
      (await (await fetch(`${origin.urls.publicUrl}/hls/${stream.playbackId}/sessions/${session.id}/480p/index.m3u8`)).text()).match(/#EXT-X-GAP/g)?.length ?? 0;
    await waitFor(async () => (await gaps()) > 0, { what: 'the lost time listed as gaps', timeoutMs: 20_000 });

    // Well past the stall and its gap, without an error or a reload. hls.js takes the gap's time
    // from a rendition that has it, and leaves the viewer's pick for Auto while doing so (its
    // preserveManualLevelOnError default).
    await page.waitForFunction((from) => document.querySelector('video')!.currentTime > from + 15, atStall, { timeout: 60_000 });
    await player.isPlaying();
    expect(await player.states()).not.toContain('ended');
    expect(player.errors).toEqual([]);
    await player.close();
    await origin.registry.stopStream(stream.id, 'kicked');
  });

  test("a viewer's pick of a rendition holds when the stream ends and comes back (a new session, a new engine)", async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Data saver', { reconnectWindowSeconds: 0 });
    const publish = () => startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 1280, height: 720 });
    const first = publish();
    await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'live', timeoutMs: 20_000 });
    const player = await watchRendition(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, 360);
    const { page } = player;

    await first.stop();
    await waitFor(async () => (await player.state()) === 'ended', { what: 'the player to show the end', timeoutMs: 30_000 });
    publish();
    await player.isPlaying(45_000);
    await player.playsFor(3);
    expect(await page.evaluate(() => document.querySelector('video')!.videoHeight)).toBe(360);
    expect(await page.textContent('[data-role=quality]')).toBe('360p');
    expect(player.errors).toEqual([]);
    await player.close();
  });
});
