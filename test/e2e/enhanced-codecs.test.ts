import { startEnhancedPublisher, type EnhancedPublisher } from '../../scripts/lib/enhanced-rtmp-publisher';
import { useBrowser } from '../support/browser';
import { parseMaster } from '../support/hls';
import { createStream, useTestOrigin } from '../support/origin';
import { DESKTOP, openPlayer } from '../support/player-page';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

describe('HEVC and AV1 sources in a browser', () => {
  const env = useTestOrigin();
  const chromium = useBrowser();
  const publishers: EnhancedPublisher[] = [];
  afterEach(async () => {
    for (const publisher of publishers.splice(0)) await publisher.stop();
  });

  test.each(['hevc', 'av1'] as const)('%s: the player offers the source only if the browser decodes it, and plays either way', async (codec) => {
    const { origin } = env;
    const stream = await createStream(origin, `${codec} in the browser`, { reconnectWindowSeconds: 0 });
    publishers.push(await startEnhancedPublisher({ port: origin.rtmpPort, streamKey: stream.streamKey, codec, width: 640, height: 360 }));
    const masterUrl = `${origin.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`;
    const master = await waitFor(
      async () => {
        const response = await fetch(masterUrl);
        return response.status === 200 ? parseMaster(await response.text()) : undefined;
      },
      { what: 'the master', timeoutMs: 60_000 },
    );
    const source = master.variants.find((variant) => variant.uri.includes('/source/'))!;
    const h264 = master.variants.find((variant) => variant.uri.includes('/360p/'))!;
    expect(source.attributes.CODECS).toMatch(codec === 'hevc' ? /^hvc1\./ : /^av01\./);
    expect(h264.attributes.CODECS).toMatch(/^avc1\./);

    const requested: string[] = [];
    const player = await openPlayer(chromium.browser, `${origin.urls.publicUrl}/watch/${stream.playbackId}`, DESKTOP, (page) =>
      page.route('**/hls/**', (route) => {
        requested.push(new URL(route.request().url()).pathname);
        return route.continue();
      }),
    );
    const decodes = await player.page.evaluate((codecs) => MediaSource.isTypeSupported(`video/mp4; codecs="${codecs.split(',')[0]}"`), source.attributes.CODECS!);
    await player.playsFor(3);
    await player.isPlaying();
    // hls.js leaves out variants the browser cannot decode: the quality menu lists what is left.
    const qualities = await player.page.locator('[data-role=quality-menu] [role=menuitemradio]').count();
    expect(qualities - 1).toBe(decodes ? 2 : 1);
    const sourceMedia = requested.filter((pathname) => pathname.includes('/source/') && /\.(m4s|mp4)$/.test(pathname));
    if (!decodes) expect(sourceMedia).toEqual([]);
    expect(player.errors).toEqual([]);
    await player.close();
    await origin.registry.stopStream(stream.id, 'kicked');
  });
});
