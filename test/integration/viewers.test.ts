import fs from 'node:fs';
import { parseMaster } from '../support/hls';
import { metricValue, scrape } from '../support/metrics';
import { createStream, useTestOrigin, type TestOrigin } from '../support/origin';
import { startPublisher } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(120_000);

const WINDOW_SECONDS = 4;

/**
 * A simulated player: loads the master (with its session id, if it has one) and then reloads every
 * media playlist the master names once a second, as hls.js does for the video and audio renditions.
 */
function startPlayer(origin: TestOrigin, playbackId: string, options: { sessionId?: string; headers?: Record<string, string> } = {}) {
  let running = true;
  const masterUrl = `${origin.urls.publicUrl}/hls/${playbackId}/master.m3u8${options.sessionId ? `?vsid=${options.sessionId}` : ''}`;
  const done = (async () => {
    const master = parseMaster(await (await fetch(masterUrl, { headers: options.headers })).text());
    const playlists = [master.variants[0]!.uri, master.audio[0]!.uri].map((uri) => new URL(uri, masterUrl).toString());
    while (running) {
      await Promise.all(playlists.map(async (url) => (await fetch(url, { headers: options.headers })).text()));
      await sleep(1000);
    }
  })();
  return async () => {
    running = false;
    await done;
  };
}

async function metricFor(origin: TestOrigin, playbackId: string): Promise<number | undefined> {
  return metricValue(await scrape(origin.urls.publicUrl), `origin_viewers{playback_id="${playbackId}"}`);
}

async function counts(origin: TestOrigin, stream: { id: string; playbackId: string }) {
  const status = await origin.api('GET', `/api/v1/public/streams/${stream.playbackId}`, { token: null });
  const operator = await origin.api('GET', `/api/v1/streams/${stream.id}`);
  return { status: status.body.viewers, operator: operator.body.liveSession?.viewers, metric: await metricFor(origin, stream.playbackId) };
}

describe('viewer counts', () => {
  const env = useTestOrigin({ overrides: { viewers: { windowSeconds: WINDOW_SECONDS } } });

  test('N players polling with distinct session ids read as N in the public status, the operator API and the metrics', async () => {
    const { origin, hls } = env;
    const stream = await createStream(origin, 'Audience');
    const quiet = await createStream(origin, 'No audience');
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    await waitFor(() => hls.master(stream.playbackId), { what: 'the master', timeoutMs: 20_000 });
    expect(await counts(origin, stream)).toEqual({ status: 0, operator: 0, metric: undefined });

    const N = 7;
    const stops = Array.from({ length: N }, (_, i) => startPlayer(origin, stream.playbackId, { sessionId: `player-session-${i}` }));
    // The same player session asking twice at once (a retry, a second tab of the same page) is one viewer.
    stops.push(startPlayer(origin, stream.playbackId, { sessionId: 'player-session-0' }));
    await sleep(2500);
    expect(await counts(origin, stream)).toEqual({ status: N, operator: N, metric: N });
    expect((await origin.api('GET', `/api/v1/public/streams/${quiet.playbackId}`, { token: null })).body.viewers).toBe(0);
    expect(await metricFor(origin, quiet.playbackId)).toBeUndefined();
    // Keys never appear in what is counted or shown.
    expect(await (await fetch(`${origin.urls.publicUrl}/metrics`)).text()).not.toContain(stream.streamKey);

    // Players that leave drop out one window after their last request; the series goes with the last one.
    await Promise.all(stops.splice(0, 3).map((stop) => stop()));
    await waitFor(async () => (await counts(origin, stream)).status === N - 2, { what: 'three viewers to leave', timeoutMs: (WINDOW_SECONDS + 5) * 1000 });
    await Promise.all(stops.map((stop) => stop()));
    await waitFor(async () => (await counts(origin, stream)).status === 0, { what: 'every viewer to leave', timeoutMs: (WINDOW_SECONDS + 5) * 1000 });
    expect(await counts(origin, stream)).toEqual({ status: 0, operator: 0, metric: undefined });
  });

  test('without a session id: one viewer per address, or per Apple playback session header', async () => {
    const { origin, hls } = env;
    const stream = await createStream(origin, 'Plain players');
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    await waitFor(() => hls.master(stream.playbackId), { what: 'the master', timeoutMs: 20_000 });
    const stops = [
      startPlayer(origin, stream.playbackId),
      startPlayer(origin, stream.playbackId),
      startPlayer(origin, stream.playbackId, { headers: { 'X-Playback-Session-Id': '6B1D2C3E-AAAA-4BBB-8CCC-123456789012' } }),
      startPlayer(origin, stream.playbackId, { headers: { 'X-Playback-Session-Id': '7C2E3D4F-AAAA-4BBB-8CCC-123456789012' } }),
    ];
    await sleep(2500);
    expect((await counts(origin, stream)).status).toBe(3);
    await Promise.all(stops.map((stop) => stop()));
  });

  test('presence reports: each player session counted once while it reports, dropped a window after its last; only POST, only while live', async () => {
    const { origin, hls } = env;
    const created = await origin.api('POST', '/api/v1/streams', { body: { name: 'Reported', profile: 'passthrough', reconnectWindowSeconds: 0 } });
    const stream = created.body;
    const presence = (id: string, method = 'POST') => fetch(`${origin.urls.publicUrl}/hls/${stream.playbackId}/viewers?vsid=${id}`, { method });
    expect((await presence('before-live')).status).toBe(404);
    const publisher = startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    await waitFor(() => hls.master(stream.playbackId), { what: 'the master', timeoutMs: 20_000 });

    const answers = await Promise.all(['page-one', 'page-two', 'page-two'].map((id) => presence(id)));
    expect(answers.map((a) => [a.status, a.headers.get('cache-control')])).toEqual([
      [204, 'no-store'],
      [204, 'no-store'],
      [204, 'no-store'],
    ]);
    expect((await presence('page-three', 'GET')).status).toBe(405);
    expect(await counts(origin, stream)).toEqual({ status: 2, operator: 2, metric: 2 });
    // One keeps reporting, the other stops: after a window only the first is left.
    const started = Date.now();
    while (Date.now() - started < (WINDOW_SECONDS + 1) * 1000) {
      await presence('page-one');
      await sleep(1000);
    }
    expect((await counts(origin, stream)).status).toBe(1);
    await publisher.stop();
  });

  test('segments, masters and ended playlists are not viewers; an idle stream has none', async () => {
    const { origin, hls } = env;
    const created = await origin.api('POST', '/api/v1/streams', { body: { name: 'Ending', reconnectWindowSeconds: 0 } });
    const stream = created.body;
    const publisher = startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    const master = await waitFor(() => hls.master(stream.playbackId), { what: 'the master', timeoutMs: 20_000 });
    const masterUrl = `${hls.masterUrl(stream.playbackId)}?vsid=only-the-master`;
    const mediaUrl = hls.resolve(hls.masterUrl(stream.playbackId), master.variants[0]!.uri);
    // From the catalog: a GET of the playlist would itself count as a viewer.
    const [newest] = origin.catalog.get(stream.playbackId)!.timelines.get('source')!.window.slice(-1);
    const segmentUrl = hls.resolve(mediaUrl, `seg_${newest!.msn}.m4s`);
    await fetch(masterUrl);
    await fetch(`${segmentUrl}?vsid=only-a-segment`);
    await fetch(`${mediaUrl}?vsid=head-only`, { method: 'HEAD' });
    expect((await counts(origin, stream)).status).toBe(0);

    await publisher.stop();
    await waitFor(() => origin.registry.getByStreamId(stream.id) === undefined, { what: 'the end', timeoutMs: 20_000 });
    await fetch(`${mediaUrl}?vsid=after-the-end`);
    expect(origin.viewers.count(stream.playbackId)).toBe(0);
    expect((await counts(origin, stream)).status).toBe(0);
  });
});

describe('viewer counts behind a trusted proxy', () => {
  const env = useTestOrigin({ overrides: { http: { trustProxy: true }, viewers: { windowSeconds: 60 } } });

  test('players without a session id are told apart by the first X-Forwarded-For address', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Behind a CDN');
    const rendition = `sessions/${'a'.repeat(16)}/source`;
    const dir = `${origin.config.mediaDir}/live/${stream.playbackId}/${rendition}`;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(`${dir}/index.m3u8`, '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\nseg_0.ts\n');
    const url = `${origin.urls.publicUrl}/hls/${stream.playbackId}/${rendition}/index.m3u8`;
    const load = async (headers: Record<string, string> = {}) => expect((await fetch(url, { headers })).status).toBe(200);

    await load({ 'X-Forwarded-For': '203.0.113.7, 10.0.0.1' });
    await load({ 'X-Forwarded-For': '203.0.113.7, 10.0.0.2' });
    await load({ 'X-Forwarded-For': '198.51.100.9' });
    expect(await metricFor(origin, stream.playbackId)).toBe(2);
    // Without the header, the connection's own address.
    await load();
    await load();
    expect(await metricFor(origin, stream.playbackId)).toBe(3);
  });
});
