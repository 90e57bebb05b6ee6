import { describeDatabases } from '../support/database';
import { createStream, startTestOrigin, type TestOrigin } from '../support/origin';

describeDatabases('HTTP API', (kind) => {
  let origin: TestOrigin;
  let readToken: string;

  beforeAll(async () => {
    origin = await startTestOrigin({ database: kind });
    readToken = (await origin.tokens.create({ name: 'reader', scope: 'read' })).token;
  });
  afterAll(() => origin.close());

  test('POST /api/v1/streams answers 201 with the key and the URLs of the contract', async () => {
    const response = await origin.api('POST', '/api/v1/streams', { body: { name: 'My show' } });
    expect(response.status).toBe(201);
    const stream = response.body;
    expect(Object.keys(stream).sort()).toEqual(
      ['id', 'name', 'playbackId', 'streamKey', 'ingestUrl', 'hlsUrl', 'playerUrl', 'status', 'enabled', 'profile', 'record', 'reconnectWindowSeconds', 'createdAt', 'updatedAt'].sort(),
    );
    expect(stream).toMatchObject({
      name: 'My show',
      status: 'idle',
      enabled: true,
      profile: 'ladder',
      record: false,
      reconnectWindowSeconds: null,
      ingestUrl: `rtmp://127.0.0.1:${origin.rtmpPort}/live`,
      hlsUrl: `${origin.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`,
      playerUrl: `${origin.urls.publicUrl}/watch/${stream.playbackId}`,
    });
    expect(stream.streamKey).toMatch(/^sk_/);
    expect(new Date(stream.createdAt).toISOString()).toBe(stream.createdAt);
    expect(response.headers.get('location')).toBe(`/api/v1/streams/${stream.id}`);
  });

  test('profile, recording and reconnect window are chosen at creation', async () => {
    const response = await origin.api('POST', '/api/v1/streams', { body: { name: 'Opts', profile: 'passthrough', record: true, reconnectWindowSeconds: 5 } });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ profile: 'passthrough', record: true, reconnectWindowSeconds: 5 });
    const custom = await origin.api('POST', '/api/v1/streams', { body: { name: 'Custom', profile: 'mobile' } });
    expect(custom.body.profile).toBe('mobile');
  });

  test('GET list and GET one never show the key', async () => {
    const created = await createStream(origin, 'Listed');
    const list = await origin.api('GET', '/api/v1/streams', { token: readToken });
    expect(list.status).toBe(200);
    expect(list.body.data.map((s: { id: string }) => s.id)).toContain(created.id);
    const one = await origin.api('GET', `/api/v1/streams/${created.id}`, { token: readToken });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: created.id, name: 'Listed', playbackId: created.playbackId });
    expect(list.text + one.text).not.toContain(created.streamKey);
    expect(one.body.streamKey).toBeUndefined();
  });

  test('authentication: no token 401, wrong token 401, read token cannot create (403)', async () => {
    const none = await origin.api('GET', '/api/v1/streams', { token: null });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await origin.api('GET', '/api/v1/streams', { token: 'tok_wrong' });
    expect(wrong.status).toBe(401);
    const basic = await origin.api('GET', '/api/v1/streams', { token: null, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expect(basic.status).toBe(401);
    const forbidden = await origin.api('POST', '/api/v1/streams', { token: readToken, body: { name: 'x' } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('forbidden');
  });

  test.each([
    ['an empty name', { name: '   ' }, 'name'],
    ['a missing name', {}, 'name'],
    ['a name of the wrong type', { name: 42 }, 'name'],
    ['a too long name', { name: 'x'.repeat(201) }, 'name'],
    ['an unknown field', { name: 'ok', colour: 'red' }, '(body)'],
    ['an unknown profile', { name: 'ok', profile: '4k' }, 'profile'],
    ['a record flag that is not a boolean', { name: 'ok', record: 'yes' }, 'record'],
    ['a negative reconnect window', { name: 'ok', reconnectWindowSeconds: -1 }, 'reconnectWindowSeconds'],
  ])('400 for %s, naming the field', async (_label, body, field) => {
    const response = await origin.api('POST', '/api/v1/streams', { body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_body');
    expect(response.body.error.details[0].field).toBe(field);
  });

  test('bad JSON 400, other content types 415, huge bodies 413', async () => {
    const badJson = await origin.api('POST', '/api/v1/streams', { body: '{"name":', headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe('bad_request');
    const form = await origin.api('POST', '/api/v1/streams', { body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    const huge = await origin.api('POST', '/api/v1/streams', { body: { name: 'x', pad: 'y'.repeat(200_000) } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
  });

  test('unknown ids and routes are 404 JSON; wrong methods 405', async () => {
    for (const path of ['/api/v1/streams/AAAAAAAAAAAAAAAA', '/api/v1/streams/..%2F..%2Fetc', '/api/v1/nothing']) {
      const response = await origin.api('GET', path);
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
    const wrongMethod = await origin.api('DELETE', '/api/v1/streams');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.code).toBe('method_not_allowed');
  });

  test('public status by playback id, without auth, without the key or the id', async () => {
    const created = await createStream(origin, 'Public');
    const response = await origin.api('GET', `/api/v1/public/streams/${created.playbackId}`, { token: null });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      playbackId: created.playbackId,
      name: 'Public',
      status: 'idle',
      viewers: 0,
      hlsUrl: created.hlsUrl,
      playerUrl: created.playerUrl,
    });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect((await origin.api('GET', '/api/v1/public/streams/nope', { token: null })).status).toBe(404);
  });

  test('/healthz, and the player pages with the name escaped, framable, with the status inside', async () => {
    expect((await origin.api('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    const created = await createStream(origin, '<script>alert(1)</script> & co $& $1');
    for (const mode of ['watch', 'embed']) {
      const page = await origin.api('GET', `/${mode}/${created.playbackId}`, { token: null });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('x-frame-options')).toBeNull();
      expect(page.headers.get('content-security-policy')).toBeNull();
      expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; co $&amp; $1');
      expect(page.text).not.toContain('<script>alert(1)');
      expect(page.text).toContain(`data-playback-id="${created.playbackId}"`);
      expect(page.text).toContain(`class="mode-${mode}"`);
      const initial = /<script type="application\/json" id="initial-status">(.*?)<\/script>/.exec(page.text)![1]!;
      expect(initial).not.toContain('<');
      expect(JSON.parse(initial)).toMatchObject({ playbackId: created.playbackId, name: created.name, status: 'idle', viewers: 0 });
    }
    for (const missing of ['/watch/AAAAAAAAAAAAAAAAAAAA', '/embed/AAAAAAAAAAAAAAAAAAAA', '/watch/..%2F..%2Fetc']) {
      const notFound = await origin.api('GET', missing, { token: null });
      expect(notFound.status).toBe(404);
      expect(notFound.headers.get('content-type')).toContain('text/html');
      expect(notFound.text).toContain('This stream does not exist');
    }
    const landing = await origin.api('GET', '/', { token: null });
    expect(landing.status).toBe(200);
    expect(landing.text).toContain('Nothing is live right now');
    expect(landing.text).not.toContain(created.playbackId);
    const bundle = await fetch(`${origin.urls.publicUrl}/assets/player.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toContain('javascript');
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    // Served compressed as the client accepts it: brotli, gzip, or plain.
    const sizes: Record<string, number> = {};
    for (const encoding of ['br', 'gzip', 'identity']) {
      const head = await fetch(`${origin.urls.publicUrl}/assets/player.js`, { method: 'HEAD', headers: { 'accept-encoding': encoding } });
      expect(head.headers.get('content-encoding')).toBe(encoding === 'identity' ? null : encoding);
      expect(head.headers.get('vary')).toContain('Accept-Encoding');
      sizes[encoding] = Number(head.headers.get('content-length'));
    }
    expect(sizes.br).toBeLessThan(sizes.gzip!);
    expect(sizes.gzip).toBeLessThan(sizes.identity! / 2);
  });
});
