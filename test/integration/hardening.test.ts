import http from 'node:http';
import net from 'node:net';
import { chunkMessage, commandMessage, publishAnswer, RtmpTestClient } from '../../scripts/lib/rtmp-client';
import { HlsClient } from '../support/hls';
import { withoutNodeLabel } from '../support/metrics';
import { createStream, startTestOrigin, useTestOrigin } from '../support/origin';
import { startPublisher } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(90_000);

/** A GET from a chosen loopback address (fetch cannot pick one). */
function getFrom(localAddress: string, url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { localAddress, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
}

describe('key guessing over RTMP', () => {
  const env = useTestOrigin({ overrides: { ingest: { keyGuessing: { windowSeconds: 600, slowAfter: 2, blockAfter: 5, blockSeconds: 60 } } } });

  test('wrong keys from one address are slowed, then refused for a while; a streamer elsewhere is unaffected', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Guarded');
    const timings: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const started = Date.now();
      expect(await publishAnswer(origin.rtmpPort, `sk_${'G'.repeat(31)}${attempt}`)).toMatchObject({ description: 'Invalid stream key.' });
      timings.push(Date.now() - started);
    }
    // the first answers come at once; past two failures, each comes half a second later per failure
    expect(timings[2]).toBeLessThan(400);
    expect(timings[3]).toBeGreaterThanOrEqual(500);
    expect(await publishAnswer(origin.rtmpPort, `sk_${'H'.repeat(32)}`)).toMatchObject({ description: 'Invalid stream key.' });
    // blocked now: even the right key is refused from this address, without a database lookup
    expect(await publishAnswer(origin.rtmpPort, stream.streamKey)).toMatchObject({
      code: 'NetStream.Publish.Denied',
      description: expect.stringContaining('Too many wrong stream keys'),
    });
    // the real streamer, from another address, gets in at once
    const started = Date.now();
    expect(await publishAnswer(origin.rtmpPort, stream.streamKey, { localAddress: '127.0.0.2' })).toMatchObject({ code: 'NetStream.Publish.Start' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(origin.logs.some((l) => l.msg === 'too many wrong stream keys from this address: it is refused for a while' && l.client === '127.0.0.1')).toBe(true);
    expect(withoutNodeLabel(await origin.metrics.registry.getSingleMetricAsString('origin_publishes_total'))).toMatch(/reason="too_many_failures"} 1/);
  });
});

describe('API authentication failures', () => {
  const env = useTestOrigin({ overrides: { http: { authFailures: { windowSeconds: 600, blockAfter: 4, blockSeconds: 60 } } } });

  test('an address presenting bad tokens gets 429s for a while; others are unaffected', async () => {
    const { origin } = env;
    const url = `${origin.urls.publicUrl}/api/v1/streams`;
    for (let i = 0; i < 4; i++) expect(await getFrom('127.0.0.1', url, `tok_wrong${i}`)).toBe(401);
    const blocked = await origin.api('GET', '/api/v1/streams');
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_requests');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(await getFrom('127.0.0.2', url, origin.adminToken)).toBe(200);
    // no credentials at all is not a guess
    expect(await getFrom('127.0.0.3', url, '')).toBe(401);
  });
});

describe('RTMP limits', () => {
  const env = useTestOrigin({ overrides: { ingest: { maxConnectionsPerAddress: 3, maxConnections: 50 } } });

  const closedSoon = (client: RtmpTestClient) => waitFor(() => client.closed, { what: 'the connection to be closed', timeoutMs: 3000 });

  test('connections per address are bounded; another address still gets in', async () => {
    const { origin } = env;
    const open = await Promise.all([1, 2, 3].map(() => RtmpTestClient.connect(origin.rtmpPort)));
    const fourth = await RtmpTestClient.connect(origin.rtmpPort);
    await closedSoon(fourth);
    expect(open.every((client) => !client.closed)).toBe(true);
    const elsewhere = await RtmpTestClient.connect(origin.rtmpPort, '127.0.0.1', '127.0.0.4');
    await elsewhere.handshake();
    expect(elsewhere.closed).toBe(false);
    for (const client of [...open, elsewhere]) client.close();
    expect(withoutNodeLabel(await origin.metrics.registry.getSingleMetricAsString('origin_rtmp_connections_rejected_total'))).toContain('limit="per_address"} 1');
  });

  test.each([
    ['a 5 MB command before any publish', () => chunkMessage({ csid: 3, type: 20, streamId: 0, payload: Buffer.alloc(5 * 1024 * 1024) }).subarray(0, 4096)],
    [
      '40 chunk streams at once',
      () => Buffer.concat(Array.from({ length: 40 }, (_, i) => chunkMessage({ csid: 4 + i, type: 20, streamId: 0, payload: Buffer.alloc(200) }).subarray(0, 140))),
    ],
    ['a chunk size of zero', () => chunkMessage({ csid: 2, type: 1, streamId: 0, payload: Buffer.from([0, 0, 0, 0]) })],
  ])('%s closes the connection, nothing more', async (...[, bytes]) => {
    const { origin } = env;
    const client = await RtmpTestClient.connect(origin.rtmpPort, '127.0.0.1', '127.0.0.5');
    await client.handshake();
    client.send(commandMessage('connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live' }));
    client.send(bytes());
    await closedSoon(client);
    expect((await origin.api('GET', '/healthz', { token: null })).status).toBe(200);
  });

  test('a publisher that goes silent (frozen, connection still open) is dropped after the idle timeout', async () => {
    const quick = await startTestOrigin({ overrides: { ingest: { idleTimeoutSeconds: 2, takeoverAfterIdleSeconds: 60 } } });
    try {
      const stream = await createStream(quick, 'Frozen');
      const publisher = startPublisher({ url: quick.rtmpUrl(stream.streamKey), width: 640, height: 360 });
      await waitFor(() => quick.registry.getByStreamId(stream.id)?.state === 'live', { what: 'live', timeoutMs: 20_000 });
      publisher.child.kill('SIGSTOP');
      const frozenAt = Date.now();
      await waitFor(() => quick.registry.getByStreamId(stream.id)?.state === 'reconnecting', { what: 'the drop to be noticed', timeoutMs: 6000 });
      expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(1500);
      expect(quick.logs.find((l) => l.msg === 'publisher dropped; waiting for it to come back')).toMatchObject({ why: 'idle_timeout' });
      publisher.child.kill('SIGKILL');
    } finally {
      await quick.close();
    }
  });

  test('a connection that never publishes is closed after the setup timeout', async () => {
    const quick = await startTestOrigin({ overrides: { ingest: { handshakeTimeoutSeconds: 1 } } });
    try {
      const idle = await RtmpTestClient.connect(quick.rtmpPort);
      await idle.handshake();
      await waitFor(() => idle.closed, { what: 'the idle connection to be closed', timeoutMs: 4000 });
    } finally {
      await quick.close();
    }
  });
});

describe('headers, readiness and metrics', () => {
  const env = useTestOrigin();

  test('API answers may not be framed or sniffed; the reference page has its own policy', async () => {
    const { origin } = env;
    const api = await origin.api('GET', '/api/v1/streams');
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(api.headers.get('x-frame-options')).toBe('DENY');
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    const docs = await origin.api('GET', '/api/docs', { token: null });
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(docs.headers.get('x-frame-options')).toBe('DENY');
    const error = await origin.api('GET', '/api/v1/nope');
    expect(error.headers.get('x-content-type-options')).toBe('nosniff');
  });

  test('/readyz: 200 with its checks when all is well', async () => {
    const response = await env.origin.api('GET', '/readyz', { token: null });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', checks: { database: { ok: true }, ffmpeg: { ok: true }, media: { ok: true }, service: { ok: true } } });
  });

  test('/readyz: 503 naming the failing check when the media disk is (configured as) too full', async () => {
    const full = await startTestOrigin({ overrides: { disk: { minFreeMegabytes: 1e12 } } });
    try {
      const response = await full.api('GET', '/readyz', { token: null });
      expect(response.status).toBe(503);
      expect(response.body.status).toBe('not_ready');
      expect(response.body.checks.media).toMatchObject({ ok: false, detail: expect.stringContaining('MiB free') });
      expect(response.body.checks.database).toEqual({ ok: true });
      expect((await full.api('GET', '/healthz', { token: null })).status).toBe(200);
    } finally {
      await full.close();
    }
  });

  test('metrics after a real publish: connections, publishes, live streams, bitrate, speed, HLS traffic, viewers; never a key', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Measured');
    // 480p: the 360p rung is encoded, so an ffmpeg runs and reports its speed.
    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 854, height: 480 });
    const hls = new HlsClient(origin.urls.publicUrl);
    const master = await waitFor(() => hls.master(stream.playbackId), { what: 'live', timeoutMs: 20_000 });
    const media = hls.resolve(hls.masterUrl(stream.playbackId), master.variants[0]!.uri);
    for (let i = 0; i < 3; i++) {
      const playlist = await hls.media(`${media}?vsid=metrics-viewer-1`);
      await fetch(hls.resolve(media, playlist.segments[0]!.uri));
      await sleep(1000);
    }
    const raw = await waitFor(
      async () => {
        const body = (await origin.api('GET', '/metrics', { token: null })).text;
        return body.includes(`origin_transcoder_speed{playback_id="${stream.playbackId}",node="${origin.config.nodeId}"}`) && body;
      },
      { what: 'per-stream metrics', timeoutMs: 15_000 },
    );
    // Every series names its node.
    expect(raw).toMatch(new RegExp(`origin_live_streams\\{node="${origin.config.nodeId}"\\} 1`));
    const text = withoutNodeLabel(raw);
    expect(text).toMatch(/origin_rtmp_connections 1/);
    expect(text).toMatch(/origin_publishes_total\{result="accepted",reason="ok"\} 1/);
    expect(text).toMatch(/origin_live_streams 1/);
    expect(text).toMatch(new RegExp(`origin_ingest_bitrate_kbps\\{playback_id="${stream.playbackId}"\\} [1-9]\\d+`));
    expect(text).toMatch(new RegExp(`origin_viewers\\{playback_id="${stream.playbackId}"\\} 1`));
    expect(text).toMatch(/origin_hls_requests_total\{kind="playlist",status="200"\} \d+/);
    expect(text).toMatch(/origin_hls_bytes_total\{kind="segment"\} [1-9]\d+/);
    expect(text).toMatch(/origin_nodejs_eventloop_lag_seconds \d/);
    expect(text).toMatch(/origin_process_cpu_user_seconds_total \d/);
    expect(text).toContain('origin_webhook_deliveries_total');
    expect(text).toContain('origin_database_errors_total');
    expect(text).not.toContain(stream.streamKey.slice(3));
  });

  test('the metrics can be put behind a bearer token', async () => {
    const guarded = await startTestOrigin({ overrides: { metrics: { token: 'metrics-token-0123456789' } } });
    try {
      expect((await guarded.api('GET', '/metrics', { token: null })).status).toBe(401);
      expect((await guarded.api('GET', '/metrics', { token: 'wrong-token-000000000' })).status).toBe(401);
      const ok = await guarded.api('GET', '/metrics', { token: 'metrics-token-0123456789' });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('origin_live_streams');
    } finally {
      await guarded.close();
    }
  });
});

describe('secrets stay out of the logs', () => {
  const env = useTestOrigin();

  test('after publishes (accepted and refused), API calls with keys and tokens in bodies, and node-media-server logging at trace', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Secretive');
    const publisher = startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360, seconds: 4 });
    await publisher.exited;
    await waitFor(() => origin.registry.getByStreamId(stream.id) === undefined, { what: 'the end', timeoutMs: 45_000 });
    const wrongKey = `sk_${'W'.repeat(32)}`;
    await publishAnswer(origin.rtmpPort, wrongKey);
    const { token } = await origin.tokens.create({ name: 'secretive', scope: 'admin' });
    // a client mistakenly sending a key or a token where a name goes: refused or stored, never logged
    await origin.api('POST', '/api/v1/streams', { token, body: { name: stream.streamKey } });
    await origin.api('POST', '/api/v1/streams', { token, body: { name: 'x', key: stream.streamKey } });
    await origin.api('GET', `/api/v1/streams?cursor=${token}`, { token });
    await origin.api('GET', '/api/v1/streams', { token: `${token}x` });
    const reset = await origin.api('POST', `/api/v1/streams/${stream.id}/reset-key`, { token });
    const logs = origin.logText();
    for (const secret of [stream.streamKey, wrongKey, token, reset.body.streamKey, origin.adminToken]) {
      expect(logs).not.toContain(secret.slice(secret.indexOf('_') + 1));
    }
    // what is logged instead: a fingerprint of a refused key, and ffmpeg's command line without any key
    expect(origin.logs.find((l) => l.reason === 'unknown_key')).toMatchObject({ keyFingerprint: expect.stringMatching(/^[0-9a-f]{8}$/) });
    expect(origin.logs.some((l) => typeof l.commandLine === 'string' && (l.commandLine as string).includes('ffmpeg'))).toBe(true);
  });
});

describe('a connection that sends nothing valid', () => {
  const env = useTestOrigin();

  test('HTTP garbage and half-open sockets do not disturb the server', async () => {
    const { origin } = env;
    const sockets = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect(origin.httpPort, '127.0.0.1', () => {
              socket.write(i % 2 ? 'GARBAGE\r\n\r\n' : 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n');
              resolve(socket);
            });
            socket.on('error', () => undefined);
          }),
      ),
    );
    expect((await origin.api('GET', '/healthz', { token: null })).status).toBe(200);
    for (const socket of sockets) socket.destroy();
  });
});
