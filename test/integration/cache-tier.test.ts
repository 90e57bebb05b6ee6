import { parseMediaPlaylist } from '../../scripts/lib/media-playlist';
import { withoutNodeLabel } from '../support/metrics';
import { startCacheTier, type CacheTier } from '../../scripts/lib/cache-tier';
import { createStream, useTestOrigin } from '../support/origin';
import { startPublisher } from '../support/processes';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

/** The origin's count of HLS answers of a kind and status, from its metrics. */
async function answered(metrics: { registry: { getSingleMetricAsString(name: string): Promise<string> } }, kind: string): Promise<number> {
  const text = withoutNodeLabel(await metrics.registry.getSingleMetricAsString('origin_hls_requests_total'));
  return [...text.matchAll(new RegExp(`origin_hls_requests_total\\{kind="${kind}",status="200"\\} (\\d+)`, 'g'))].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('the shipped nginx caching tier (deploy/nginx/live-origin.conf) in front of a low-latency stream', () => {
  const env = useTestOrigin();
  let tier: CacheTier;
  beforeAll(async () => {
    tier = await startCacheTier(env.origin.httpPort);
  });
  afterAll(() => tier?.stop());

  test('viewers waiting for the next part share one held request and one fetch of the part; segments are cached; players are counted by their presence reports, which pass the cache', async () => {
    const stream = await createStream(env.origin, 'Behind a cache', { profile: 'passthrough' });
    startPublisher({ url: env.origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    const master = await waitFor(
      async () => {
        const response = await fetch(`${tier.url}/hls/${stream.playbackId}/master.m3u8`);
        return response.status === 200 ? response.text() : undefined;
      },
      { what: 'the master through nginx', timeoutMs: 20_000 },
    );
    const playlistUrl = new URL(
      master.split('\n').find((line) => line.endsWith('index.m3u8'))!,
      `${tier.url}/hls/${stream.playbackId}/`,
    ).toString();
    await waitFor(async () => parseMediaPlaylist(await (await fetch(playlistUrl)).text()).segments.length >= 2, { what: 'two segments', timeoutMs: 15_000 });

    // As players do: each blocking request asks for the part the previous answer's hint names.
    let current = parseMediaPlaylist(await (await fetch(playlistUrl)).text());
    for (let round = 0; round < 5; round++) {
      // Twenty viewers ask at once for the playlist with the next part: the cache sends one request
      // on, which the origin holds until the part exists; every viewer gets that answer.
      const [, msn, part] = /seg_(\d+)\.(\d+)\.m4s/.exec(current.hint!)!;
      const playlistsBefore = await answered(env.origin.metrics, 'playlist');
      const partsBefore = await answered(env.origin.metrics, 'part');
      const blocking = `${playlistUrl}?_HLS_msn=${msn}&_HLS_part=${part}`;
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => fetch(blocking).then(async (r) => ({ status: r.status, text: await r.text(), cache: r.headers.get('x-cache') }))),
      );
      expect(answers.every((a) => a.status === 200 && a.text.includes(`seg_${msn}.${part}.m4s"`))).toBe(true);
      expect(new Set(answers.map((a) => a.text)).size).toBe(1);
      expect(await answered(env.origin.metrics, 'playlist')).toBe(playlistsBefore + 1);
      // Then the part itself, by every viewer: fetched from the origin once.
      const partUrl = new URL(`seg_${msn}.${part}.m4s`, playlistUrl).toString();
      const bodies = await Promise.all(Array.from({ length: 20 }, () => fetch(partUrl).then(async (r) => Buffer.from(await r.arrayBuffer()))));
      expect(bodies.every((body) => body.length > 0 && body.equals(bodies[0]!))).toBe(true);
      expect(await answered(env.origin.metrics, 'part')).toBe(partsBefore + 1);
      current = parseMediaPlaylist(answers[0]!.text);
    }

    // A segment: MISS, then HIT.
    const latest = parseMediaPlaylist(await (await fetch(playlistUrl)).text());
    const segmentUrl = new URL(latest.segments.at(-1)!.uri, playlistUrl).toString();
    expect((await fetch(segmentUrl)).headers.get('x-cache')).toBe('MISS');
    expect((await fetch(segmentUrl)).headers.get('x-cache')).toBe('HIT');

    // Nothing a player GETs passes the cache; its presence reports go through, and count it.
    expect(['HIT', 'MISS', 'EXPIRED', 'REVALIDATED', 'UPDATING']).toContain((await fetch(`${playlistUrl}?vsid=cached-viewer-1`)).headers.get('x-cache'));
    // (The cache's own id-less fetches count as one viewer: its address.)
    const before = env.origin.viewers.count(stream.playbackId);
    const reports = await Promise.all(
      ['reporting-viewer-1', 'reporting-viewer-2'].map((id) => fetch(`${tier.url}/hls/${stream.playbackId}/viewers?vsid=${id}`, { method: 'POST' })),
    );
    expect(reports.map((report) => report.status)).toEqual([204, 204]);
    expect(env.origin.viewers.count(stream.playbackId)).toBe(before + 2);
    await env.origin.registry.stopStream(stream.id, 'kicked');
  });
});
