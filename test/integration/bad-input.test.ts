import net from 'node:net';
import { describeDatabases } from '../support/database';
import { createStream, startTestOrigin, type TestOrigin } from '../support/origin';

interface Case {
  label: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  token?: string | null;
  /** Accepted as ordinary data (stored safely), not refused. */
  accepted?: boolean;
}

const S = '{stream}';
const W = '{webhook}';
const long = (n: number) => 'x'.repeat(n);

const CASES: Case[] = [
  // wrong types
  { label: 'name is a number', method: 'POST', path: '/api/v1/streams', body: { name: 42 } },
  { label: 'name is null', method: 'POST', path: '/api/v1/streams', body: { name: null } },
  { label: 'name is an array', method: 'POST', path: '/api/v1/streams', body: { name: ['a'] } },
  { label: 'name is an object', method: 'POST', path: '/api/v1/streams', body: { name: { first: 'a' } } },
  { label: 'name is empty', method: 'POST', path: '/api/v1/streams', body: { name: '' } },
  { label: 'name is blank', method: 'POST', path: '/api/v1/streams', body: { name: ' \t ' } },
  { label: 'name too long', method: 'POST', path: '/api/v1/streams', body: { name: long(201) } },
  { label: 'name with a control character', method: 'POST', path: '/api/v1/streams', body: { name: 'bell\u0007' } },
  { label: 'name with a NUL byte', method: 'POST', path: '/api/v1/streams', body: { name: 'nul\u0000' } },
  { label: 'name with a lone surrogate', method: 'POST', path: '/api/v1/streams', body: { name: 'half \ud800 pair' } },
  { label: 'record as a string', method: 'POST', path: '/api/v1/streams', body: { name: 'a', record: 'true' } },
  { label: 'reconnect window as a string', method: 'POST', path: '/api/v1/streams', body: { name: 'a', reconnectWindowSeconds: '10' } },
  { label: 'reconnect window fractional', method: 'POST', path: '/api/v1/streams', body: { name: 'a', reconnectWindowSeconds: 1.5 } },
  { label: 'reconnect window too large', method: 'POST', path: '/api/v1/streams', body: { name: 'a', reconnectWindowSeconds: 99_999 } },
  { label: 'profile as a number', method: 'POST', path: '/api/v1/streams', body: { name: 'a', profile: 7 } },
  { label: 'unknown profile', method: 'POST', path: '/api/v1/streams', body: { name: 'a', profile: '../../etc' } },
  { label: 'unknown field', method: 'POST', path: '/api/v1/streams', body: { name: 'a', streamKey: 'sk_mine' } },
  { label: 'prototype pollution field', method: 'POST', path: '/api/v1/streams', body: '{"name":"a","__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } },
  { label: 'PATCH with nothing to change', method: 'PATCH', path: `/api/v1/streams/${S}`, body: {} },
  { label: 'PATCH enabled as a string', method: 'PATCH', path: `/api/v1/streams/${S}`, body: { enabled: 'no' } },
  { label: 'PATCH an id field', method: 'PATCH', path: `/api/v1/streams/${S}`, body: { id: 'AAAAAAAAAAAAAAAA' } },
  { label: 'reset-key disconnect as a string', method: 'POST', path: `/api/v1/streams/${S}/reset-key`, body: { disconnect: 'yes' } },
  { label: 'token scope unknown', method: 'POST', path: '/api/v1/tokens', body: { name: 'x', scope: 'superuser' } },
  { label: 'token name missing', method: 'POST', path: '/api/v1/tokens', body: { scope: 'read' } },
  { label: 'webhook url javascript:', method: 'POST', path: '/api/v1/webhooks', body: { url: 'javascript:alert(1)' } },
  { label: 'webhook url file:', method: 'POST', path: '/api/v1/webhooks', body: { url: 'file:///etc/passwd' } },
  { label: 'webhook url too long', method: 'POST', path: '/api/v1/webhooks', body: { url: `https://example.com/${long(3000)}` } },
  { label: 'webhook events not an array', method: 'POST', path: '/api/v1/webhooks', body: { url: 'https://example.com/', events: 'stream.live' } },
  { label: 'webhook PATCH unknown field', method: 'PATCH', path: `/api/v1/webhooks/${W}`, body: { secret: 'whsec_mine' } },
  // bodies that are not a JSON object
  { label: 'JSON null', method: 'POST', path: '/api/v1/streams', body: 'null', headers: { 'content-type': 'application/json' } },
  { label: 'JSON array', method: 'POST', path: '/api/v1/streams', body: '[{"name":"a"}]', headers: { 'content-type': 'application/json' } },
  { label: 'JSON string', method: 'POST', path: '/api/v1/streams', body: '"a"', headers: { 'content-type': 'application/json' } },
  { label: 'JSON number', method: 'POST', path: '/api/v1/streams', body: '12', headers: { 'content-type': 'application/json' } },
  { label: 'truncated JSON', method: 'POST', path: '/api/v1/streams', body: '{"name":"a"', headers: { 'content-type': 'application/json' } },
  { label: 'single quotes', method: 'POST', path: '/api/v1/streams', body: "{'name':'a'}", headers: { 'content-type': 'application/json' } },
  { label: 'trailing comma', method: 'POST', path: '/api/v1/streams', body: '{"name":"a",}', headers: { 'content-type': 'application/json' } },
  { label: 'NaN literal', method: 'POST', path: '/api/v1/streams', body: '{"name":"a","reconnectWindowSeconds":NaN}', headers: { 'content-type': 'application/json' } },
  { label: 'deeply nested JSON', method: 'POST', path: '/api/v1/streams', body: `${'['.repeat(20_000)}${']'.repeat(20_000)}`, headers: { 'content-type': 'application/json' } },
  { label: 'a 1 MB body', method: 'POST', path: '/api/v1/streams', body: { name: 'a', pad: long(1_000_000) } },
  { label: 'binary garbage as JSON', method: 'POST', path: '/api/v1/streams', body: '\u00ff\u00fe\u0000\u0001', headers: { 'content-type': 'application/json' } },
  // content types
  { label: 'text/plain body', method: 'POST', path: '/api/v1/streams', body: '{"name":"a"}', headers: { 'content-type': 'text/plain' } },
  { label: 'form body', method: 'POST', path: '/api/v1/streams', body: 'name=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
  { label: 'multipart body', method: 'POST', path: '/api/v1/streams', body: '--b\r\n\r\na\r\n--b--', headers: { 'content-type': 'multipart/form-data; boundary=b' } },
  { label: 'XML body', method: 'POST', path: '/api/v1/streams', body: '<name>a</name>', headers: { 'content-type': 'application/xml' } },
  // query strings
  { label: 'limit 0', method: 'GET', path: '/api/v1/streams?limit=0' },
  { label: 'limit negative', method: 'GET', path: '/api/v1/streams?limit=-1' },
  { label: 'limit too large', method: 'GET', path: '/api/v1/streams?limit=101' },
  { label: 'limit in exponent form', method: 'GET', path: '/api/v1/streams?limit=1e2' },
  { label: 'limit repeated', method: 'GET', path: '/api/v1/streams?limit=1&limit=2' },
  { label: 'cursor garbage', method: 'GET', path: '/api/v1/streams?cursor=%%%' },
  { label: 'cursor of the wrong shape', method: 'GET', path: `/api/v1/streams?cursor=${Buffer.from('{"a":1}').toString('base64url')}` },
  { label: 'cursor with SQL', method: 'GET', path: `/api/v1/streams?cursor=${Buffer.from(`[1,"x' OR '1'='1"]`).toString('base64url')}` },
  { label: 'status unknown', method: 'GET', path: '/api/v1/streams?status=dead' },
  { label: 'enabled not a boolean', method: 'GET', path: '/api/v1/streams?enabled=maybe' },
  { label: 'unknown query parameter', method: 'GET', path: '/api/v1/streams?statuss=live' },
  // ids, SQL and traversal in paths
  { label: 'SQL in an id', method: 'GET', path: `/api/v1/streams/${encodeURIComponent("' OR 1=1 --")}` },
  { label: 'id too short', method: 'GET', path: '/api/v1/streams/abc' },
  { label: 'unicode id', method: 'GET', path: `/api/v1/streams/${encodeURIComponent('ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ')}` },
  { label: 'encoded traversal in an id', method: 'GET', path: '/api/v1/streams/..%2F..%2F..%2Fetc%2Fpasswd' },
  { label: 'traversal in a webhook id', method: 'DELETE', path: '/api/v1/webhooks/..%2Fstreams' },
  { label: 'traversal to the docs assets', method: 'GET', path: '/api/docs/assets/..%2F..%2Fpackage.json', token: null },
  { label: 'traversal in HLS', method: 'GET', path: '/hls/AAAAAAAAAAAAAAAAAAAA/..%2F..%2F..%2Fetc%2Fpasswd', token: null },
  { label: 'SQL in a public playback id', method: 'GET', path: `/api/v1/public/streams/${encodeURIComponent("x' UNION SELECT key_hash FROM streams --")}`, token: null },
  // methods and authentication
  { label: 'PUT on the collection', method: 'PUT', path: '/api/v1/streams', body: { name: 'a' } },
  { label: 'DELETE on the collection', method: 'DELETE', path: '/api/v1/streams' },
  { label: 'Bearer with no token', method: 'GET', path: '/api/v1/streams', headers: { authorization: 'Bearer' }, token: null },
  { label: 'Bearer with two tokens', method: 'GET', path: '/api/v1/streams', headers: { authorization: 'Bearer a b' }, token: null },
  { label: 'a 10 KB token', method: 'GET', path: '/api/v1/streams', headers: { authorization: `Bearer ${long(10_000)}` }, token: null },
  { label: 'SQL as a token', method: 'GET', path: '/api/v1/streams', headers: { authorization: "Bearer ' OR '1'='1" }, token: null },
  // odd but valid data is stored as data
  { label: 'SQL in a name (stored as text)', method: 'POST', path: '/api/v1/streams', body: { name: "'); DROP TABLE streams; --" }, accepted: true },
  { label: 'emoji and right-to-left text in a name', method: 'POST', path: '/api/v1/streams', body: { name: '🎥 مرحبا \u202eevil' }, accepted: true },
  { label: 'HTML in a name', method: 'POST', path: '/api/v1/streams', body: { name: '<img src=x onerror=alert(1)>' }, accepted: true },
];

describeDatabases('malformed requests', (kind) => {
  let origin: TestOrigin;
  let streamId: string;
  let webhookId: string;

  beforeAll(async () => {
    origin = await startTestOrigin({ database: kind });
    streamId = (await createStream(origin, 'target')).id;
    webhookId = (await origin.api('POST', '/api/v1/webhooks', { body: { url: 'https://example.com/hook' } })).body.id;
  });
  afterAll(() => origin.close());

  test(`there are at least 50 of them (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
  });

  test.each(CASES.map((c) => [c.label, c] as const))('%s: a clear answer, no 5xx', async (...[, c]) => {
    const path = c.path.replace(S, streamId).replace(W, webhookId);
    const response = await origin.api(c.method, path, {
      ...(c.body !== undefined && { body: c.body }),
      ...(c.headers && { headers: c.headers }),
      ...(c.token !== undefined && { token: c.token }),
    });
    expect(response.status).toBeLessThan(500);
    if (c.accepted) {
      expect(response.status).toBe(201);
      const stored = await origin.api('GET', `/api/v1/streams/${response.body.id}`);
      expect(stored.body.name).toBe((c.body as { name: string }).name);
      return;
    }
    expect(response.status).toBeGreaterThanOrEqual(400);
    if (path.startsWith('/api/')) {
      expect(response.body.error.code).toMatch(/^[a-z_]+$/);
      expect(typeof response.body.error.message).toBe('string');
      // no stack traces, SQL or internals
      expect(response.text).not.toMatch(/at \w+ \(|node_modules|SELECT|sqlite|mysql|Error:/i);
    }
  });

  test('afterwards the server and the database are fine', async () => {
    expect((await origin.api('GET', '/healthz', { token: null })).status).toBe(200);
    const list = await origin.api('GET', '/api/v1/streams?limit=100');
    expect(list.status).toBe(200);
    expect(list.body.data.length).toBeGreaterThanOrEqual(4);
  });

  test('a request line no HTTP server should accept gets a 4xx, not a crash', async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect(origin.httpPort, '127.0.0.1', () => socket.write('GET /api/v1/streams\u0000 HTTP/1.1\r\nHost: x\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 4\d\d/);
    expect((await origin.api('GET', '/healthz', { token: null })).status).toBe(200);
  });
});
