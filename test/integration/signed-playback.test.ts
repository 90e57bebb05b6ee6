import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { parseMediaPlaylist } from '../../scripts/lib/media-playlist';
import { probeStreams } from '../support/ffprobe';
import { createStream, useTestOrigin, type TestOrigin } from '../support/origin';
import { startPublisher } from '../support/processes';
import { startServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const run = promisify(execFile);

/** A token minted by the API for a stream. */
async function mint(
  origin: TestOrigin,
  streamId: string,
  body: Record<string, unknown> = { expiresInSeconds: 600 },
): Promise<{ token: string; hlsUrl: string; playerUrl: string; expiresAt: string }> {
  const response = await origin.api('POST', `/api/v1/streams/${streamId}/playback-tokens`, { body });
  if (response.status !== 201) throw new Error(`mint failed: ${response.status} ${response.text}`);
  return response.body;
}

/** A token minted as a customer's backend would, with a common JWT library and a key the API handed out. */
function mintOffline(key: { id: string; secret: string }, claims: Record<string, unknown>): string {
  return jwt.sign(claims, Buffer.from(key.secret, 'base64url'), { algorithm: 'HS256', keyid: key.id, noTimestamp: true });
}

const seconds = () => Math.floor(Date.now() / 1000);
const withToken = (url: string, token: string | undefined) => (token === undefined ? url : `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`);

describe('signed playback on the origin', () => {
  const env = useTestOrigin();

  test('every resource of a signed stream needs a valid token; with one, the URIs handed out carry it and ffmpeg plays from the master URL alone', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Private lecture', { profile: 'passthrough', playback: 'signed', record: true });
    expect(stream.playback).toBe('signed');
    const other = await createStream(origin, 'Another stream', { playback: 'signed' });
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    const { token, hlsUrl, playerUrl, expiresAt } = await mint(origin, stream.id);
    expect(hlsUrl).toBe(`${origin.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8?token=${token}`);
    expect(playerUrl).toBe(`${origin.urls.publicUrl}/watch/${stream.playbackId}?token=${token}`);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now() + 590_000);

    // The master, then the media playlist, with the token: every URI in them carries it.
    const master = await waitFor(
      async () => {
        const response = await fetch(hlsUrl);
        return response.status === 200 ? response.text() : undefined;
      },
      { what: 'the master with a token', timeoutMs: 20_000 },
    );
    const masterUris = master.split('\n').filter((line) => line && !line.startsWith('#'));
    expect(masterUris.length).toBeGreaterThan(0);
    for (const uri of [...masterUris, ...[...master.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!)]) expect(uri).toContain(`token=${token}`);
    const playlistUrl = new URL(masterUris[0]!, hlsUrl).toString();
    const playlistText = await waitFor(
      async () => {
        const text = await (await fetch(playlistUrl)).text();
        return parseMediaPlaylist(text).segments.length >= 2 ? text : undefined;
      },
      { what: 'two segments', timeoutMs: 20_000 },
    );
    const playlist = parseMediaPlaylist(playlistText);
    const uris = [...playlistText.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!).concat(playlistText.split('\n').filter((line) => line && !line.startsWith('#')));
    expect(uris.length).toBeGreaterThan(5);
    for (const uri of uris) expect(uri).toContain(`token=${token}`);

    // Every kind of resource, bare (as a URL without the token) and tokenised.
    const bare = (uri: string) => new URL(uri, playlistUrl).toString().replace(/[?&]token=[^&]*/, '');
    const segment = playlist.segments.at(-1)!;
    const base = `${origin.urls.publicUrl}/hls/${stream.playbackId}`;
    const sessionMaster = new URL('../master.m3u8', playlistUrl.replace(/\?.*/, '')).toString();
    const resources: Array<{ what: string; url: string; method?: string; ok: number }> = [
      { what: 'stream master', url: `${base}/master.m3u8`, ok: 200 },
      { what: 'session master', url: sessionMaster, ok: 200 },
      { what: 'media playlist', url: bare(playlistUrl), ok: 200 },
      { what: 'blocking playlist request', url: `${bare(playlistUrl)}?_HLS_msn=${segment.sequence}&_HLS_part=0`, ok: 200 },
      { what: 'delta update', url: `${bare(playlistUrl)}?_HLS_skip=YES`, ok: 200 },
      { what: 'segment', url: bare(segment.uri), ok: 200 },
      { what: 'part', url: bare(segment.parts[0]!.uri), ok: 200 },
      { what: 'init segment', url: bare(segment.map!), ok: 200 },
      { what: 'poster', url: `${base}/poster.jpg`, ok: 200 },
      { what: 'presence report', url: `${base}/viewers?vsid=someviewer1`, method: 'POST', ok: 204 },
      { what: 'public status', url: `${origin.urls.publicUrl}/api/v1/public/streams/${stream.playbackId}`, ok: 200 },
      { what: 'watch page', url: `${origin.urls.publicUrl}/watch/${stream.playbackId}`, ok: 200 },
      { what: 'embed page', url: `${origin.urls.publicUrl}/embed/${stream.playbackId}`, ok: 200 },
    ];
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, exp: seconds() + 86_400 * 365 })).toString('base64url')}.${signature}`;
    const keys = (await origin.api('GET', '/api/v1/playback-keys')).body.data as Array<{ id: string }>;
    // The API made a key for its first token; its secret was never shown.
    expect(keys).toHaveLength(1);
    const forKeyOf = (tokenClaims: Record<string, unknown>) => jwt.sign(tokenClaims, 'not the secret', { algorithm: 'HS256', keyid: keys[0]!.id, noTimestamp: true });
    const { token: otherToken } = await mint(origin, other.id);
    const { token: expired } = await mint(origin, stream.id, { expiresInSeconds: 1 });
    const cases: Array<{ what: string; token: string | undefined; code: string }> = [
      { what: 'no token', token: undefined, code: 'token_required' },
      { what: "another stream's token", token: otherToken, code: 'token_wrong_stream' },
      { what: 'a tampered token', token: tampered, code: 'token_invalid' },
      { what: 'a token signed with a wrong secret', token: forKeyOf({ exp: seconds() + 600 }), code: 'token_invalid' },
    ];
    for (const resource of resources) {
      for (const attempt of cases) {
        const response = await fetch(withToken(resource.url, attempt.token), { method: resource.method ?? 'GET' });
        const text = await response.text();
        expect({ resource: resource.what, attempt: attempt.what, status: response.status }).toEqual({ resource: resource.what, attempt: attempt.what, status: 403 });
        expect(response.headers.get('cache-control')).toMatch(/no-store|no-cache/);
        // Pages say it in words (and never name the stream); everything else in JSON.
        if (resource.what.endsWith('page')) expect(text).toContain(`data-code="${attempt.code}"`);
        else expect(JSON.parse(text)).toMatchObject({ error: { code: attempt.code } });
        if (resource.what.endsWith('page')) expect(text).not.toContain('Private lecture');
      }
      const allowed = await fetch(withToken(resource.url, token), { method: resource.method ?? 'GET' });
      expect({ resource: resource.what, status: allowed.status }).toEqual({ resource: resource.what, status: resource.ok });
      await allowed.arrayBuffer();
    }

    // The status and the page hand out URLs with the token, and the page names the stream.
    const status = await (await fetch(withToken(`${origin.urls.publicUrl}/api/v1/public/streams/${stream.playbackId}`, token))).json();
    expect(status).toMatchObject({ name: 'Private lecture', status: 'live', hlsUrl, playerUrl });
    expect(status.posterUrl).toContain(`token=${token}`);
    expect(await (await fetch(playerUrl)).text()).toContain('Private lecture');

    // ffmpeg, as an HLS client given only the tokenised master URL, reads the stream.
    const out = path.join(origin.dir, 'played.mp4');
    await run('ffmpeg', ['-v', 'error', '-y', '-i', hlsUrl, '-t', '3', '-c', 'copy', out], { timeout: 60_000 });
    const streams = await probeStreams(out);
    expect(streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 640, height: 360 });

    // A token past its expiry (and the 30 s clock allowance) is refused with its reason, everywhere.
    await waitFor(async () => (await fetch(withToken(playlistUrl.replace(/\?.*/, ''), expired))).status === 403, {
      what: 'the short token to expire',
      timeoutMs: 45_000,
      intervalMs: 1000,
    });
    for (const resource of resources) {
      const response = await fetch(withToken(resource.url, expired), { method: resource.method ?? 'GET' });
      expect({ resource: resource.what, status: response.status }).toEqual({ resource: resource.what, status: 403 });
      const text = await response.text();
      if (!resource.what.endsWith('page')) expect(JSON.parse(text).error.code).toBe('token_expired');
      else expect(text).toContain('This link has expired');
    }

    // No token reached the logs.
    for (const secret of [token, otherToken, expired]) expect(origin.logText()).not.toContain(secret.split('.')[2]!);
    await origin.registry.stopStream(stream.id, 'kicked');
  });

  test('signing keys: a backend mints tokens with a key the API hands out once; rotation keeps old tokens working until their key is revoked', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Rotating', { playback: 'signed' });
    const status = (token: string) => fetch(withToken(`${origin.urls.publicUrl}/api/v1/public/streams/${stream.playbackId}`, token));

    const first = await origin.api('POST', '/api/v1/playback-keys', { body: { name: 'backend 2026' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name: 'backend 2026', revokedAt: null });
    expect(first.body.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const oldToken = mintOffline(first.body, { exp: seconds() + 600, pid: stream.playbackId });
    expect((await status(oldToken)).status).toBe(200);
    // A token for every signed stream (no pid) and one naming several.
    expect((await status(mintOffline(first.body, { exp: seconds() + 600 }))).status).toBe(200);
    expect((await status(mintOffline(first.body, { exp: seconds() + 600, pid: ['A'.repeat(20), stream.playbackId] }))).status).toBe(200);

    // A new key: the API signs with it from now on; both keys' tokens work.
    const second = await origin.api('POST', '/api/v1/playback-keys', { body: {} });
    expect(second.status).toBe(201);
    const minted = await mint(origin, stream.id);
    expect(JSON.parse(Buffer.from(minted.token.split('.')[0]!, 'base64url').toString()).kid).toBe(second.body.id);
    expect((await status(minted.token)).status).toBe(200);
    expect((await status(oldToken)).status).toBe(200);

    // Secrets are never listed; revoking the first key stops its tokens at once, not the second's.
    const listed = await origin.api('GET', '/api/v1/playback-keys');
    expect(listed.text).not.toContain(first.body.secret);
    expect(listed.text).not.toContain(second.body.secret);
    expect((await origin.api('DELETE', `/api/v1/playback-keys/${first.body.id}`)).status).toBe(204);
    expect((await origin.api('DELETE', `/api/v1/playback-keys/${first.body.id}`)).status).toBe(404);
    const refused = await status(oldToken);
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe('token_revoked');
    expect((await status(minted.token)).status).toBe(200);

    // The audit log names what was done, never a secret or a token.
    const audit = await origin.api('GET', '/api/v1/audit');
    expect(audit.text).toContain('playbackKeys.revoke');
    expect(audit.text).toContain('streams.playbackTokens.create');
    for (const secret of [first.body.secret, second.body.secret, minted.token]) {
      expect(audit.text).not.toContain(secret);
      expect(origin.logText()).not.toContain(secret);
    }

    // Read tokens cannot mint or manage keys.
    const read = await origin.api('POST', '/api/v1/tokens', { body: { name: 'reader', scope: 'read' } });
    for (const [method, url, body] of [
      ['POST', `/api/v1/streams/${stream.id}/playback-tokens`, { expiresInSeconds: 60 }],
      ['POST', '/api/v1/playback-keys', {}],
      ['GET', '/api/v1/playback-keys', undefined],
    ] as const) {
      expect((await origin.api(method, url, { token: read.body.token, ...(body && { body }) })).status).toBe(403);
    }
  });

  test('bad input: minting without an expiry or with nonsense is a 400; malformed, huge and wrong-algorithm tokens are refused without a 5xx', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Bad input', { playback: 'signed' });
    for (const body of [
      {},
      { expiresInSeconds: 0 },
      { expiresInSeconds: -5 },
      { expiresInSeconds: 1.5 },
      { expiresInSeconds: '60' },
      { expiresInSeconds: 10 ** 12 },
      { expiresInSeconds: 60, origins: ['*'] },
      { expiresInSeconds: 60, viewerId: 'a b' },
      { expiresInSeconds: 60, extra: 1 },
    ]) {
      const response = await origin.api('POST', `/api/v1/streams/${stream.id}/playback-tokens`, { body });
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      expect(response.body.error.code).toBe('invalid_body');
    }
    expect((await origin.api('POST', '/api/v1/streams/AAAAAAAAAAAAAAAA/playback-tokens', { body: { expiresInSeconds: 60 } })).status).toBe(404);
    expect((await origin.api('PATCH', `/api/v1/streams/${stream.id}`, { body: { playback: 'private' } })).status).toBe(400);

    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const { token } = await mint(origin, stream.id);
    const [, payload, signature] = token.split('.') as [string, string, string];
    const tokens = [
      'x',
      '%',
      '%ZZ',
      '....',
      `${b64({ alg: 'none' })}.${payload}.`,
      `${b64({ alg: 'RS256', kid: 'AAAAAAAAAAAAAAAA' })}.${payload}.${signature}`,
      `${b64({ alg: 'HS256', kid: { $gt: '' } })}.${payload}.${signature}`,
      `${b64({ alg: 'HS256', kid: 'A'.repeat(10_000) })}.${payload}.${signature}`,
      'a'.repeat(12_000),
      encodeURIComponent('\u0000'),
      encodeURIComponent('ü.é.✓'),
    ];
    const urls = [
      `/hls/${stream.playbackId}/master.m3u8`,
      `/hls/${stream.playbackId}/poster.jpg`,
      `/api/v1/public/streams/${stream.playbackId}`,
      `/api/v1/public/streams/${stream.playbackId}/access`,
      `/watch/${stream.playbackId}`,
    ];
    for (const url of urls) {
      for (const bad of tokens) {
        const response = await fetch(`${origin.urls.publicUrl}${url}?token=${bad}`);
        await response.arrayBuffer();
        expect({ url, bad: bad.slice(0, 40), status: response.status }).toEqual({ url, bad: bad.slice(0, 40), status: 403 });
      }
    }
    // Still answering.
    expect((await fetch(`${origin.urls.publicUrl}/healthz`)).status).toBe(200);
  });

  test('a signed stream is left off the landing page; its viewers are its tokens (or the viewer ids they name)', async () => {
    const { origin } = env;
    const open = await createStream(origin, 'Open house', { profile: 'passthrough' });
    const closed = await createStream(origin, 'Board meeting', { profile: 'passthrough', playback: 'signed' });
    startPublisher({ url: origin.rtmpUrl(open.streamKey), width: 320, height: 180 });
    startPublisher({ url: origin.rtmpUrl(closed.streamKey), width: 320, height: 180 });
    await waitFor(() => origin.registry.getByPlaybackId(open.playbackId)?.info().state === 'live' && origin.registry.getByPlaybackId(closed.playbackId)?.info().state === 'live', {
      what: 'both live',
      timeoutMs: 20_000,
    });
    const landing = await (await fetch(`${origin.urls.publicUrl}/`)).text();
    expect(landing).toContain('Open house');
    expect(landing).not.toContain('Board meeting');
    expect(landing).not.toContain(closed.playbackId);

    const alice1 = await mint(origin, closed.id, { expiresInSeconds: 600, viewerId: 'alice' });
    const alice2 = await mint(origin, closed.id, { expiresInSeconds: 601, viewerId: 'alice' });
    const bob = await mint(origin, closed.id, { expiresInSeconds: 600 });
    expect(new Set([alice1.token, alice2.token, bob.token]).size).toBe(3);
    const base = `${origin.urls.publicUrl}/hls/${closed.playbackId}`;
    // Players report presence with their own session ids; a signed stream counts the tokens instead.
    for (const [minted, vsid] of [
      [alice1, 'player-one-1'],
      [alice2, 'player-two-2'],
      [bob, 'player-three-3'],
      [bob, 'player-four-4'],
    ] as const) {
      expect((await fetch(withToken(`${base}/viewers?vsid=${vsid}`, minted.token), { method: 'POST' })).status).toBe(204);
    }
    expect(origin.viewers.count(closed.playbackId)).toBe(2);
    await origin.registry.stopStream(open.id, 'kicked');
    await origin.registry.stopStream(closed.id, 'kicked');
  });

  test('a stream made signed is refused at once to viewers without a token, and made public again opens to them', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Switching', { profile: 'passthrough' });
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 320, height: 180 });
    const master = `${origin.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`;
    await waitFor(async () => (await fetch(master)).status === 200, { what: 'the public master', timeoutMs: 20_000 });
    expect((await origin.api('PATCH', `/api/v1/streams/${stream.id}`, { body: { playback: 'signed' } })).body.playback).toBe('signed');
    expect((await fetch(master)).status).toBe(403);
    expect((await fetch(withToken(master, (await mint(origin, stream.id)).token))).status).toBe(200);
    await origin.api('PATCH', `/api/v1/streams/${stream.id}`, { body: { playback: 'public' } });
    expect((await fetch(master)).status).toBe(200);
    await origin.registry.stopStream(stream.id, 'kicked');
  });
});

describe('signed playback from the CLI', () => {
  const env = useTestOrigin();

  test('streams are made signed, keys created, listed and revoked, and tokens minted', async () => {
    const { origin } = env;
    const cli = async (...args: string[]) => {
      const process = startServerProcess({ DATABASE_URL: origin.config.databaseUrl, MEDIA_DIR: origin.config.mediaDir }, [...args, '--json']);
      const { code } = await process.exited;
      expect({ args, code, stderr: process.stderr() }).toEqual({ args, code: 0, stderr: '' });
      return JSON.parse(process.stdout());
    };
    const created = await cli('streams', 'create', '--name', 'From the shell', '--playback', 'signed');
    expect(created.playback).toBe('signed');
    const key = await cli('playback-keys', 'create', '--name', 'shell');
    expect(key.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const minted = await cli('streams', 'playback-token', created.id, '--expires-in', '600', '--viewer-id', 'carol', '--origin', 'https://school.example');
    expect(minted.hlsUrl).toContain(`token=${minted.token}`);
    const claims = jwt.verify(minted.token, Buffer.from(key.secret, 'base64url'), { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ pid: created.playbackId, vid: 'carol', origins: ['https://school.example'] });
    // The running origin learns of the CLI's changes within live.watchIntervalSeconds.
    const status = `${origin.urls.publicUrl}/api/v1/public/streams/${created.playbackId}`;
    await waitFor(async () => (await fetch(status)).status === 403, { what: 'the origin to see the stream signed', timeoutMs: 15_000 });
    await waitFor(async () => (await fetch(withToken(status, minted.token))).status === 200, { what: 'the CLI key to be known', timeoutMs: 15_000 });
    const list = await cli('playback-keys', 'list');
    expect(JSON.stringify(list)).not.toContain(key.secret);
    await cli('playback-keys', 'revoke', key.id);
    await waitFor(async () => (await fetch(withToken(status, minted.token))).status === 403, { what: 'the revoked key to be honoured', timeoutMs: 15_000 });
  });
});
