import fs from 'node:fs';
import { parseMediaPlaylist } from '../../scripts/lib/media-playlist';
import { startCacheTier, type CacheTier } from '../../scripts/lib/cache-tier';
import { createStream, useTestOrigin } from '../support/origin';
import { startPublisher } from '../support/processes';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const withToken = (url: string, token: string | undefined) => (token === undefined ? url : `${url}${url.includes('?') ? '&' : '?'}token=${token}`);

describe('signed playback through the shipped nginx caching tier (deploy/nginx/live-origin.conf)', () => {
  const env = useTestOrigin();
  let tier: CacheTier;
  beforeAll(async () => {
    tier = await startCacheTier(env.origin.httpPort);
  });
  afterAll(() => tier?.stop());

  test('nginx checks every request with the origin, cached or not; one cached copy serves every token; each viewer gets its own token in its playlists; no token reaches the access log', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Cached and private', { profile: 'passthrough', playback: 'signed' });
    const other = await createStream(origin, 'Another', { playback: 'signed' });
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    const mint = async (id: string, body: Record<string, unknown> = { expiresInSeconds: 600 }) =>
      (await origin.api('POST', `/api/v1/streams/${id}/playback-tokens`, { body })).body.token as string;
    const alice = await mint(stream.id, { expiresInSeconds: 600, viewerId: 'alice' });
    const bob = await mint(stream.id, { expiresInSeconds: 600, viewerId: 'bob' });
    const otherToken = await mint(other.id);
    const expiring = await mint(stream.id, { expiresInSeconds: 1 });

    const master = `${tier.url}/hls/${stream.playbackId}/master.m3u8`;
    const masterText = await waitFor(
      async () => {
        const response = await fetch(withToken(master, alice));
        return response.status === 200 ? response.text() : undefined;
      },
      { what: 'the master through nginx', timeoutMs: 20_000 },
    );
    const variant = masterText.split('\n').find((line) => line.includes('index.m3u8') && !line.startsWith('#'))!;
    expect(variant).toContain(`token=${alice}`);
    const playlistUrl = new URL(variant, master).toString().replace(/\?.*/, '');
    await waitFor(async () => parseMediaPlaylist(await (await fetch(withToken(playlistUrl, alice))).text()).segments.length >= 2, { what: 'two segments', timeoutMs: 20_000 });

    // Alice's and Bob's playlists: the same cached copy (their directives match), each with their own
    // token in every URI, and never the placeholder or the other's token.
    const latest = parseMediaPlaylist(await (await fetch(withToken(playlistUrl, alice))).text());
    const [, msn, part] = /seg_(\d+)\.(\d+)\.m4s/.exec(latest.hint!)!;
    const blocking = `${playlistUrl}?_HLS_msn=${msn}&_HLS_part=${part}`;
    const [forAlice, forBob] = await Promise.all(
      [alice, bob].map(async (token) => {
        const response = await fetch(withToken(blocking, token));
        return { status: response.status, text: await response.text(), cache: response.headers.get('x-cache') };
      }),
    );
    for (const [answer, mine, theirs] of [
      [forAlice!, alice, bob],
      [forBob!, bob, alice],
    ] as const) {
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain('PLAYBACK_TOKEN_PLACEHOLDER');
      expect(answer.text).not.toContain(theirs);
      const uris = [...answer.text.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!).concat(answer.text.split('\n').filter((line) => line && !line.startsWith('#')));
      for (const uri of uris) expect(uri).toContain(`token=${mine}`);
    }
    expect(forAlice!.text.replaceAll(alice, 'T')).toBe(forBob!.text.replaceAll(bob, 'T'));

    // A segment fetched with Alice's token is cached once: Bob's request is a HIT.
    const segmentUrl = new URL(parseMediaPlaylist(forAlice!.text).segments.at(-1)!.uri, playlistUrl).toString().replace(/\?.*/, '');
    const first = await fetch(withToken(segmentUrl, alice));
    expect([first.status, first.headers.get('x-cache')]).toEqual([200, 'MISS']);
    const body = Buffer.from(await first.arrayBuffer());
    const second = await fetch(withToken(segmentUrl, bob));
    expect([second.status, second.headers.get('x-cache')]).toEqual([200, 'HIT']);
    expect(Buffer.from(await second.arrayBuffer()).equals(body)).toBe(true);

    // The cached segment is refused without a valid token, with the origin's reason.
    const [header, payload, signature] = alice.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, pid: other.playbackId })).toString('base64url')}.${signature}`;
    await waitFor(async () => (await fetch(withToken(segmentUrl, expiring))).status === 403, { what: 'the short token to expire', timeoutMs: 45_000, intervalMs: 1000 });
    for (const [token, code] of [
      [undefined, 'token_required'],
      [otherToken, 'token_wrong_stream'],
      [tampered, 'token_invalid'],
      [expiring, 'token_expired'],
    ] as const) {
      for (const url of [segmentUrl, playlistUrl, master, `${tier.url}/hls/${stream.playbackId}/poster.jpg`]) {
        const refused = await fetch(withToken(url, token));
        expect({ url, code, status: refused.status }).toEqual({ url, code, status: 403 });
        expect(await refused.json()).toMatchObject({ error: { code } });
        expect(refused.headers.get('cache-control')).toBe('no-store');
      }
    }
    // Still cached and served to a valid token.
    const again = await fetch(withToken(segmentUrl, bob));
    expect([again.status, again.headers.get('x-cache')]).toEqual([200, 'HIT']);

    // A private status is never shared through the cache.
    const status = `${tier.url}/api/v1/public/streams/${stream.playbackId}`;
    expect((await fetch(status)).status).toBe(403);
    const statusForBob = await (await fetch(withToken(status, bob))).json();
    expect(statusForBob.hlsUrl).toContain(`token=${bob}`);
    expect((await (await fetch(withToken(status, alice))).json()).hlsUrl).toContain(`token=${alice}`);

    // Neither nginx's access log nor the origin's log holds a token.
    const log = fs.readFileSync(tier.accessLog, 'utf8');
    expect(log).toContain(`/hls/${stream.playbackId}/`);
    for (const token of [alice, bob, otherToken, expiring]) {
      expect(log).not.toContain(token.split('.')[2]!);
      expect(origin.logText()).not.toContain(token.split('.')[2]!);
    }
    await origin.registry.stopStream(stream.id, 'kicked');
  });
});
