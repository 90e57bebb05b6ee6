import fs from 'node:fs';
import path from 'node:path';
import { publishAnswer } from '../../scripts/lib/rtmp-client';
import { AuditBody, ErrorBody, pageOf, PublicStreamBody, StreamBody, StreamWithKey, TokenBody, TokenWithSecret, WebhookBody, WebhookWithSecret } from '../../src/http/api/schemas';
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

  describe('streams', () => {
    test('POST answers 201 with the key and the URLs of the contract', async () => {
      const response = await origin.api('POST', '/api/v1/streams', { body: { name: 'My show' } });
      expect(response.status).toBe(201);
      const stream = response.body;
      expect(Object.keys(stream).sort()).toEqual(
        [
          'id',
          'name',
          'playbackId',
          'streamKey',
          'ingestUrl',
          'ingestUrls',
          'hlsUrl',
          'playerUrl',
          'status',
          'enabled',
          'profile',
          'record',
          'reconnectWindowSeconds',
          'latencyMode',
          'playback',
          'createdAt',
          'updatedAt',
        ].sort(),
      );
      expect(stream).toMatchObject({
        name: 'My show',
        status: 'idle',
        enabled: true,
        profile: 'ladder',
        record: false,
        reconnectWindowSeconds: null,
        latencyMode: 'low',
        playback: 'public',
        ingestUrl: `rtmp://127.0.0.1:${origin.rtmpPort}/live`,
        ingestUrls: [`rtmp://127.0.0.1:${origin.rtmpPort}/live`],
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
      expect((await origin.api('POST', '/api/v1/streams', { body: { name: 'Custom', profile: 'mobile' } })).body.profile).toBe('mobile');
    });

    test('GET one has the record and liveSession null when idle; neither GET shows the key', async () => {
      const created = await createStream(origin, 'Listed');
      const one = await origin.api('GET', `/api/v1/streams/${created.id}`, { token: readToken });
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ id: created.id, name: 'Listed', playbackId: created.playbackId, liveSession: null });
      const list = await origin.api('GET', '/api/v1/streams', { token: readToken });
      expect(list.body.data.map((s: { id: string }) => s.id)).toContain(created.id);
      expect(list.text + one.text).not.toContain(created.streamKey);
    });

    test('pages: limit and an opaque cursor walk the whole list once, newest first; filters', async () => {
      const fresh = await startTestOrigin({ database: kind });
      try {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.unshift((await createStream(fresh, `p${i}`)).id);
        await fresh.api('PATCH', `/api/v1/streams/${ids[1]}`, { body: { enabled: false } });
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const response = await fresh.api('GET', `/api/v1/streams?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
          expect(response.status).toBe(200);
          expect(response.body.data.length).toBeLessThanOrEqual(2);
          seen.push(...response.body.data.map((s: { id: string }) => s.id));
          cursor = response.body.nextCursor;
          pages += 1;
        } while (cursor);
        expect(seen).toEqual(ids);
        expect(pages).toBe(3);
        const disabled = await fresh.api('GET', '/api/v1/streams?enabled=false');
        expect(disabled.body.data.map((s: { id: string }) => s.id)).toEqual([ids[1]]);
        expect((await fresh.api('GET', '/api/v1/streams?enabled=true')).body.data).toHaveLength(4);
        expect((await fresh.api('GET', '/api/v1/streams?status=idle')).body.data).toHaveLength(5);
        expect((await fresh.api('GET', '/api/v1/streams?status=live')).body.data).toEqual([]);
      } finally {
        await fresh.close();
      }
    });

    test('PATCH changes what it is given and nothing else', async () => {
      const created = await createStream(origin, 'Before');
      const response = await origin.api('PATCH', `/api/v1/streams/${created.id}`, { body: { name: 'After', profile: 'passthrough', record: true, reconnectWindowSeconds: 12 } });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ name: 'After', profile: 'passthrough', record: true, reconnectWindowSeconds: 12, enabled: true, playbackId: created.playbackId });
      const back = await origin.api('PATCH', `/api/v1/streams/${created.id}`, { body: { reconnectWindowSeconds: null } });
      expect(back.body.reconnectWindowSeconds).toBeNull();
      expect(back.body.name).toBe('After');
    });

    test('disable: the key is refused while disabled, accepted again once enabled', async () => {
      const created = await createStream(origin, 'Toggle');
      await origin.api('PATCH', `/api/v1/streams/${created.id}`, { body: { enabled: false } });
      expect(await publishAnswer(origin.rtmpPort, created.streamKey)).toMatchObject({ code: 'NetStream.Publish.Denied' });
      await origin.api('PATCH', `/api/v1/streams/${created.id}`, { body: { enabled: true } });
      expect(await publishAnswer(origin.rtmpPort, created.streamKey)).toMatchObject({ code: 'NetStream.Publish.Start' });
    });

    test('reset-key: a new key, the old one refused at once', async () => {
      const created = await createStream(origin, 'Leaky');
      const response = await origin.api('POST', `/api/v1/streams/${created.id}/reset-key`);
      expect(response.status).toBe(200);
      expect(response.body.streamKey).toMatch(/^sk_/);
      expect(response.body.streamKey).not.toBe(created.streamKey);
      expect(await publishAnswer(origin.rtmpPort, created.streamKey)).toMatchObject({ level: 'error', code: 'NetStream.Publish.BadName' });
      expect(await publishAnswer(origin.rtmpPort, response.body.streamKey)).toMatchObject({ code: 'NetStream.Publish.Start' });
    });

    test('disconnect when not live is a 409', async () => {
      const created = await createStream(origin, 'Quiet');
      const response = await origin.api('POST', `/api/v1/streams/${created.id}/disconnect`);
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('conflict');
    });

    test('DELETE removes the stream, its history and its media', async () => {
      const created = await createStream(origin, 'Doomed');
      const media = path.join(origin.config.mediaDir, 'live', created.playbackId, 'sessions', 'AAAAAAAAAAAAAAAA');
      fs.mkdirSync(media, { recursive: true });
      fs.writeFileSync(path.join(media, 'master.m3u8'), '#EXTM3U\n');
      expect((await origin.api('DELETE', `/api/v1/streams/${created.id}`)).status).toBe(204);
      expect((await origin.api('GET', `/api/v1/streams/${created.id}`)).status).toBe(404);
      expect((await origin.api('GET', `/api/v1/streams/${created.id}/sessions`)).status).toBe(404);
      expect((await origin.api('DELETE', `/api/v1/streams/${created.id}`)).status).toBe(404);
      expect(fs.existsSync(path.join(origin.config.mediaDir, 'live', created.playbackId))).toBe(false);
      expect(await publishAnswer(origin.rtmpPort, created.streamKey)).toMatchObject({ code: 'NetStream.Publish.BadName' });
    });

    test('sessions of a stream that never went live: an empty page', async () => {
      const created = await createStream(origin, 'Never');
      expect((await origin.api('GET', `/api/v1/streams/${created.id}/sessions`, { token: readToken })).body).toEqual({ data: [], nextCursor: null });
    });

    test('public status by playback id, without auth, without the key or the id', async () => {
      const created = await createStream(origin, 'Public');
      const response = await origin.api('GET', `/api/v1/public/streams/${created.playbackId}`, { token: null });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ playbackId: created.playbackId, name: 'Public', status: 'idle', viewers: 0, hlsUrl: created.hlsUrl, playerUrl: created.playerUrl });
      expect(response.text).not.toContain(created.id);
      expect(response.text).not.toContain(created.streamKey);
      expect((await origin.api('GET', '/api/v1/public/streams/nope', { token: null })).status).toBe(404);
    });
  });

  test('the profiles a stream may be given, with what each encodes: the built-in two and those of the configuration', async () => {
    const { status, body } = await origin.api('GET', '/api/v1/profiles');
    expect(status).toBe(200);
    const byName = new Map((body.data as Array<{ name: string }>).map((profile) => [profile.name, profile]));
    expect([...byName.keys()]).toEqual(['ladder', 'passthrough', 'mobile']);
    expect(byName.get('passthrough')).toEqual({ name: 'passthrough', kind: 'passthrough', sourceRung: true, rungs: [] });
    expect(byName.get('mobile')).toEqual({
      name: 'mobile',
      kind: 'ladder',
      sourceRung: false,
      rungs: [
        { name: '540p', height: 540, videoBitrateKbps: 1600, maxFps: 30 },
        { name: '270p', height: 270, videoBitrateKbps: 400, maxFps: 30 },
      ],
    });
    expect(byName.get('ladder')).toMatchObject({
      kind: 'ladder',
      sourceRung: true,
      rungs: origin.config.transcode.ladder.map((rung) => expect.objectContaining({ name: rung.name, height: rung.height })),
    });
    // Each is a profile a stream takes.
    for (const name of byName.keys()) expect((await origin.api('POST', '/api/v1/streams', { body: { name: `Profile ${name}`, profile: name } })).status).toBe(201);
  });

  describe('who may do what', () => {
    // [method, path, body]; ids that do not exist are fine: authorization comes first.
    const calls: Array<[string, string, unknown?]> = [
      ['POST', '/api/v1/streams', { name: 'x' }],
      ['GET', '/api/v1/streams'],
      ['GET', '/api/v1/streams/AAAAAAAAAAAAAAAA'],
      ['PATCH', '/api/v1/streams/AAAAAAAAAAAAAAAA', { name: 'x' }],
      ['POST', '/api/v1/streams/AAAAAAAAAAAAAAAA/reset-key'],
      ['POST', '/api/v1/streams/AAAAAAAAAAAAAAAA/disconnect'],
      ['DELETE', '/api/v1/streams/AAAAAAAAAAAAAAAA'],
      ['GET', '/api/v1/streams/AAAAAAAAAAAAAAAA/sessions'],
      ['POST', '/api/v1/tokens', { name: 'x', scope: 'read' }],
      ['GET', '/api/v1/tokens'],
      ['DELETE', '/api/v1/tokens/AAAAAAAAAAAAAAAA'],
      ['POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/' }],
      ['GET', '/api/v1/webhooks'],
      ['GET', '/api/v1/webhooks/AAAAAAAAAAAAAAAA'],
      ['PATCH', '/api/v1/webhooks/AAAAAAAAAAAAAAAA', { enabled: false }],
      ['POST', '/api/v1/webhooks/AAAAAAAAAAAAAAAA/rotate-secret'],
      ['DELETE', '/api/v1/webhooks/AAAAAAAAAAAAAAAA'],
      ['GET', '/api/v1/webhooks/AAAAAAAAAAAAAAAA/deliveries'],
      ['GET', '/api/v1/audit'],
      ['GET', '/api/v1/profiles'],
    ];
    const readable = new Set(['GET /api/v1/streams', 'GET /api/v1/streams/AAAAAAAAAAAAAAAA', 'GET /api/v1/streams/AAAAAAAAAAAAAAAA/sessions', 'GET /api/v1/profiles']);

    // Rest parameters: jest reads a test function with more parameters than a row has values as a done-callback test.
    test.each(calls)('%s %s: 401 without a token, 401 with a revoked one', async (...[method, url, body]) => {
      const none = await origin.api(method, url, { token: null, ...(body !== undefined && { body }) });
      expect(none.status).toBe(401);
      expect(none.body.error.code).toBe('unauthorized');
      const { token, record } = await origin.tokens.create({ name: 'short-lived', scope: 'admin' });
      await origin.tokens.revoke(record.id);
      expect((await origin.api(method, url, { token, ...(body !== undefined && { body }) })).status).toBe(401);
    });

    test.each(calls)('%s %s: a read token may only read streams', async (...[method, url, body]) => {
      const response = await origin.api(method, url, { token: readToken, ...(body !== undefined && { body }) });
      if (readable.has(`${method} ${url}`)) expect([200, 404]).toContain(response.status);
      else {
        expect(response.status).toBe(403);
        expect(response.body.error.code).toBe('forbidden');
      }
    });

    test.each(calls)('%s %s: an admin token gets an answer, never a 5xx', async (...[method, url, body]) => {
      const response = await origin.api(method, url, body !== undefined ? { body } : {});
      expect(response.status).toBeLessThan(500);
      expect([200, 201, 204, 404]).toContain(response.status);
    });
  });

  describe('tokens', () => {
    test('create shows the secret once; list never does; the new token works; revoke stops it', async () => {
      const created = await origin.api('POST', '/api/v1/tokens', { body: { name: 'dashboard', scope: 'read' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'dashboard', scope: 'read', lastUsedAt: null, revokedAt: null });
      const secret = created.body.token as string;
      expect(secret).toMatch(/^tok_/);
      expect((await origin.api('GET', '/api/v1/streams', { token: secret })).status).toBe(200);
      expect((await origin.api('POST', '/api/v1/streams', { token: secret, body: { name: 'x' } })).status).toBe(403);
      // A token can say who it is (the console asks), whatever its scope.
      expect((await origin.api('GET', '/api/v1/token', { token: secret })).body).toEqual({ id: created.body.id, name: 'dashboard', scope: 'read' });
      expect((await origin.api('GET', '/api/v1/token')).body).toEqual({ id: 'env', name: 'ADMIN_TOKEN', scope: 'admin' });
      expect((await origin.api('GET', '/api/v1/token', { token: 'tok_wrong' })).status).toBe(401);
      const list = await origin.api('GET', '/api/v1/tokens');
      expect(list.text).not.toContain(secret);
      const listed = list.body.data.find((t: { id: string }) => t.id === created.body.id);
      expect(listed.lastUsedAt).not.toBeNull();
      expect((await origin.api('DELETE', `/api/v1/tokens/${created.body.id}`)).status).toBe(204);
      expect((await origin.api('GET', '/api/v1/streams', { token: secret })).status).toBe(401);
      expect((await origin.api('DELETE', `/api/v1/tokens/${created.body.id}`)).status).toBe(404);
      expect((await origin.api('GET', '/api/v1/tokens')).body.data.find((t: { id: string }) => t.id === created.body.id).revokedAt).not.toBeNull();
    });
  });

  describe('webhooks', () => {
    test('register, read, change, rotate, remove; the secret only when created or rotated', async () => {
      const created = await origin.api('POST', '/api/v1/webhooks', {
        body: { url: 'https://hooks.example.com/origin', description: 'ops', events: ['stream.live', 'stream.idle'] },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ url: 'https://hooks.example.com/origin', description: 'ops', events: ['stream.live', 'stream.idle'], enabled: true });
      expect(created.body.secret).toMatch(/^whsec_/);
      const id = created.body.id;
      const got = await origin.api('GET', `/api/v1/webhooks/${id}`);
      expect(got.body.secret).toBeUndefined();
      expect((await origin.api('GET', '/api/v1/webhooks')).text).not.toContain(created.body.secret);
      const changed = await origin.api('PATCH', `/api/v1/webhooks/${id}`, { body: { enabled: false, events: ['stream.deleted'] } });
      expect(changed.body).toMatchObject({ enabled: false, events: ['stream.deleted'] });
      const rotated = await origin.api('POST', `/api/v1/webhooks/${id}/rotate-secret`);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(created.body.secret);
      expect((await origin.api('GET', `/api/v1/webhooks/${id}/deliveries`)).body).toEqual({ data: [], nextCursor: null });
      expect((await origin.api('DELETE', `/api/v1/webhooks/${id}`)).status).toBe(204);
      expect((await origin.api('GET', `/api/v1/webhooks/${id}`)).status).toBe(404);
    });

    test('all events by default; URLs must be http(s) without credentials; events must be known', async () => {
      const all = await origin.api('POST', '/api/v1/webhooks', { body: { url: 'http://127.0.0.1:9/x' } });
      expect(all.body.events).toEqual(['stream.live', 'stream.idle', 'stream.disconnected', 'stream.key_reset', 'stream.deleted', 'stream.restream_failed']);
      for (const body of [
        { url: 'ftp://example.com/' },
        { url: 'https://user:pw@example.com/' },
        { url: 'not a url' },
        { url: 'https://example.com/', events: ['stream.exploded'] },
        { url: 'https://example.com/', events: [] },
      ]) {
        const response = await origin.api('POST', '/api/v1/webhooks', { body });
        expect(response.status).toBe(400);
        expect(response.body.error.code).toBe('invalid_body');
      }
    });
  });

  describe('audit', () => {
    test('changes are recorded with the token, action, target, time and outcome, failures too', async () => {
      const { token: reader } = await origin.tokens.create({ name: 'auditor-reader', scope: 'read' });
      const created = await createStream(origin, 'Audited');
      await origin.api('PATCH', `/api/v1/streams/${created.id}`, { body: { name: 'Audited 2' } });
      await origin.api('POST', '/api/v1/streams', { token: reader, body: { name: 'nope' } });
      await origin.api('PATCH', '/api/v1/streams/ZZZZZZZZZZZZZZZZ', { body: { name: 'x' } });
      const page = await origin.api('GET', '/api/v1/audit?limit=100');
      expect(page.status).toBe(200);
      const entries = page.body.data as Array<Record<string, any>>;
      expect(entries.find((e) => e.action === 'streams.create' && e.target === `stream:${created.id}`)).toMatchObject({
        outcome: 'ok',
        status: 201,
        token: { id: 'env', name: 'ADMIN_TOKEN' },
      });
      expect(entries.find((e) => e.action === 'streams.update' && e.target === `stream:${created.id}`)).toMatchObject({ outcome: 'ok', status: 200 });
      expect(entries.find((e) => e.action === 'streams.create' && e.token.name === 'auditor-reader')).toMatchObject({ outcome: 'forbidden', status: 403 });
      expect(entries.find((e) => e.target === 'stream:ZZZZZZZZZZZZZZZZ')).toMatchObject({ outcome: 'not_found', status: 404 });
      expect(new Date(entries[0]!.at).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(page.text).not.toContain(created.streamKey);
    });
  });

  describe('contract', () => {
    test('answers match the schemas the OpenAPI document is made from', async () => {
      const created = await origin.api('POST', '/api/v1/streams', { body: { name: 'Contract' } });
      StreamWithKey.strict().parse(created.body);
      StreamBody.strict().parse((await origin.api('GET', `/api/v1/streams/${created.body.id}`)).body);
      pageOf(StreamBody.strict(), 'x')
        .strict()
        .parse((await origin.api('GET', '/api/v1/streams?limit=3')).body);
      PublicStreamBody.strict().parse((await origin.api('GET', `/api/v1/public/streams/${created.body.playbackId}`, { token: null })).body);
      const token = await origin.api('POST', '/api/v1/tokens', { body: { name: 'c', scope: 'read' } });
      TokenWithSecret.strict().parse(token.body);
      pageOf(TokenBody.strict(), 'x')
        .strict()
        .parse((await origin.api('GET', '/api/v1/tokens')).body);
      const hook = await origin.api('POST', '/api/v1/webhooks', { body: { url: 'https://example.com/h' } });
      WebhookWithSecret.strict().parse(hook.body);
      WebhookBody.strict().parse((await origin.api('GET', `/api/v1/webhooks/${hook.body.id}`)).body);
      pageOf(AuditBody.strict(), 'x')
        .strict()
        .parse((await origin.api('GET', '/api/v1/audit')).body);
      ErrorBody.strict().parse((await origin.api('GET', '/api/v1/streams/AAAAAAAAAAAAAAAA')).body);
    });

    test('the OpenAPI document lists every operation, with schemas, errors and security', async () => {
      const response = await origin.api('GET', '/api/openapi.json', { token: null });
      expect(response.status).toBe(200);
      const doc = response.body;
      expect(doc.openapi).toBe('3.0.3');
      const operations = Object.values(doc.paths as Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>).flatMap((item) =>
        Object.values(item),
      );
      expect(operations.map((op) => op.operationId).sort()).toEqual(
        [
          'audit.list',
          'destinations.create',
          'destinations.delete',
          'destinations.list',
          'nodes.drain',
          'nodes.list',
          'playbackKeys.create',
          'playbackKeys.list',
          'playbackKeys.revoke',
          'profiles.list',
          'public.stream',
          'public.streamAccess',
          'streams.create',
          'streams.delete',
          'streams.disconnect',
          'streams.get',
          'streams.list',
          'streams.playbackTokens.create',
          'streams.resetKey',
          'streams.sessions',
          'streams.stats',
          'streams.update',
          'tokens.create',
          'tokens.current',
          'tokens.list',
          'tokens.revoke',
          'webhooks.create',
          'webhooks.delete',
          'webhooks.deliveries',
          'webhooks.get',
          'webhooks.list',
          'webhooks.rotateSecret',
          'webhooks.update',
        ].sort(),
      );
      expect(doc.components.schemas.StreamCreate.additionalProperties).toBe(false);
      expect(doc.components.schemas.StreamCreate.required).toEqual(['name']);
      expect(Object.keys(doc.paths['/api/v1/streams'].post.responses).sort()).toEqual(['201', '400', '401', '403', '413', '415']);
      expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    });

    test('the reference page and its assets are served by the origin', async () => {
      const page = await origin.api('GET', '/api/docs', { token: null });
      expect(page.status).toBe(200);
      expect(page.text).toContain('/api/docs/assets/swagger-ui-bundle.js');
      for (const asset of ['/api/docs/assets/swagger-ui-bundle.js', '/api/docs/assets/swagger-ui.css', '/api/docs/init.js']) {
        expect((await fetch(`${origin.urls.publicUrl}${asset}`)).status).toBe(200);
      }
    });
  });

  describe('validation', () => {
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
  });

  test('/healthz, and the player pages with the name escaped, framable, with the status inside', async () => {
    expect((await origin.api('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    const created = await createStream(origin, '<script>alert(1)</script> & co $& $1');
    for (const mode of ['watch', 'embed']) {
      const page = await origin.api('GET', `/${mode}/${created.playbackId}`, { token: null });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      // other sites may frame the embed, only this origin the watch page
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      if (mode === 'embed') expect(csp).not.toContain('frame-ancestors');
      else expect(csp).toContain("frame-ancestors 'self'");
      expect(page.headers.get('x-frame-options')).toBe(mode === 'embed' ? null : 'SAMEORIGIN');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
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
