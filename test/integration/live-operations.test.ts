import fs from 'node:fs';
import { publishAnswer } from '../../scripts/lib/rtmp-client';
import { LiveSessionBody, PublicStreamBody, StreamBody } from '../../src/http/api/schemas';
import { verifySignature } from '../../src/webhooks/signature';
import { createStream, startTestOrigin, useTestOrigin, type TestOrigin } from '../support/origin';
import { startPublisher, stopAllProcesses } from '../support/processes';
import { startServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(120_000);

const SMALL = { width: 640, height: 360 } as const;

async function liveStream(origin: TestOrigin, name: string) {
  const stream = await createStream(origin, name);
  const publisher = startPublisher({ url: origin.rtmpUrl(stream.streamKey), ...SMALL });
  await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: `${name} to be live`, timeoutMs: 20_000 });
  return { stream, publisher };
}

describe('operator actions on live streams', () => {
  const env = useTestOrigin({ overrides: { live: { watchIntervalSeconds: 1 } } });

  // A 360p source on the default ladder is only copied: remuxed in the origin, so there is no
  // ffmpeg and no transcoder speed (an encoding session's speed is checked with the metrics).
  test('GET a live stream: its session with ingest codecs, size, frame rate, bitrate, keyframe interval, renditions', async () => {
    const { origin } = env;
    const { stream } = await liveStream(origin, 'Detailed');
    const session = await waitFor(
      async () => {
        const body = (await origin.api('GET', `/api/v1/streams/${stream.id}`)).body;
        return body.liveSession?.ingest.bitrateKbps > 0 && body.liveSession.ingest.keyframeIntervalSeconds !== undefined && body.liveSession;
      },
      { what: 'live details', timeoutMs: 15_000 },
    );
    expect(session).toMatchObject({
      state: 'live',
      clientAddress: '127.0.0.1',
      profile: 'ladder',
      ingest: { video: { codec: 'h264', width: 640, height: 360, frameRate: 30 }, audio: { codec: 'aac', sampleRate: 48000, channels: 2 }, keyframeIntervalSeconds: 2 },
      renditions: [
        { name: 'source', kind: 'video', mode: 'copy', width: 640, height: 360 },
        { name: 'audio', kind: 'audio', mode: 'copy' },
      ],
      warnings: [],
    });
    // what the server answers is what the OpenAPI document says it answers
    StreamBody.strict().parse((await origin.api('GET', `/api/v1/streams/${stream.id}`)).body);
    LiveSessionBody.strict().parse(session);
    PublicStreamBody.strict().parse((await origin.api('GET', `/api/v1/public/streams/${stream.playbackId}`, { token: null })).body);
    expect(session.ingest.bitrateKbps).toBeGreaterThan(500);
    expect(session.transcoder).toBeUndefined();
    expect(new Date(session.startedAt).getTime()).toBeLessThanOrEqual(Date.now());
    const live = await origin.api('GET', '/api/v1/streams?status=live');
    expect(live.body.data.map((s: { id: string }) => s.id)).toEqual([stream.id]);
    expect((await origin.api('GET', '/api/v1/streams?status=idle')).body.data.map((s: { id: string }) => s.id)).not.toContain(stream.id);
    await origin.registry.stopStream(stream.id, 'kicked');
  });

  test('reset-key with disconnect while live: the publisher is cut, the old key refused, the new one works', async () => {
    const { origin } = env;
    const { stream, publisher } = await liveStream(origin, 'Leaked');
    const response = await origin.api('POST', `/api/v1/streams/${stream.id}/reset-key`, { body: { disconnect: true } });
    expect(response.status).toBe(200);
    expect((await publisher.exited).code).not.toBe(0);
    expect(origin.registry.getByStreamId(stream.id)).toBeUndefined();
    expect((await origin.sessions.listByStream(stream.id, 1))[0]?.endReason).toBe('key_reset');
    expect(await publishAnswer(origin.rtmpPort, stream.streamKey)).toMatchObject({ code: 'NetStream.Publish.BadName', description: 'Invalid stream key.' });
    expect(await publishAnswer(origin.rtmpPort, response.body.streamKey)).toMatchObject({ code: 'NetStream.Publish.Start' });
  });

  test('reset-key without disconnect: the running publisher goes on; the old key cannot start another session', async () => {
    const { origin } = env;
    const { stream, publisher } = await liveStream(origin, 'Rotated');
    const response = await origin.api('POST', `/api/v1/streams/${stream.id}/reset-key`);
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(publisher.child.exitCode).toBeNull();
    expect(origin.registry.getByStreamId(stream.id)?.state).toBe('live');
    expect(await publishAnswer(origin.rtmpPort, stream.streamKey)).toMatchObject({ description: 'Invalid stream key.' });
    await publisher.stop();
  });

  test('disabling a live stream ends its session at once and refuses the next publish', async () => {
    const { origin } = env;
    const { stream, publisher } = await liveStream(origin, 'Abusive');
    expect((await origin.api('PATCH', `/api/v1/streams/${stream.id}`, { body: { enabled: false } })).status).toBe(200);
    expect(origin.registry.getByStreamId(stream.id)).toBeUndefined();
    expect((await publisher.exited).code).not.toBe(0);
    expect((await origin.sessions.listByStream(stream.id, 1))[0]?.endReason).toBe('stream_disabled');
    expect(await publishAnswer(origin.rtmpPort, stream.streamKey)).toMatchObject({ code: 'NetStream.Publish.Denied' });
  });

  test('disconnect cuts the publisher; the key still works', async () => {
    const { origin } = env;
    const { stream, publisher } = await liveStream(origin, 'Kicked');
    const response = await origin.api('POST', `/api/v1/streams/${stream.id}/disconnect`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ disconnected: true });
    expect((await publisher.exited).code).not.toBe(0);
    expect((await origin.sessions.listByStream(stream.id, 1))[0]?.endReason).toBe('kicked');
    expect(await publishAnswer(origin.rtmpPort, stream.streamKey)).toMatchObject({ code: 'NetStream.Publish.Start' });
  });

  test('deleting a live stream ends it and removes everything', async () => {
    const { origin } = env;
    const { stream, publisher } = await liveStream(origin, 'Gone');
    expect((await origin.api('DELETE', `/api/v1/streams/${stream.id}`)).status).toBe(204);
    expect((await publisher.exited).code).not.toBe(0);
    expect((await fetch(stream.hlsUrl as string)).status).toBe(404);
    expect(await origin.sessions.listByStream(stream.id, 5)).toEqual([]);
  });

  test('the CLI disables a live stream; the server notices through the database and ends the session', async () => {
    const { origin } = env;
    const { stream, publisher } = await liveStream(origin, 'Via CLI');
    const cli = startServerProcess({ DATABASE_URL: origin.config.databaseUrl, MEDIA_DIR: origin.config.mediaDir }, ['streams', 'disable', stream.id]);
    expect((await cli.exited).code).toBe(0);
    await waitFor(() => origin.registry.getByStreamId(stream.id) === undefined, { what: 'the session to end', timeoutMs: 10_000 });
    expect((await origin.sessions.listByStream(stream.id, 1))[0]?.endReason).toBe('stream_disabled');
    expect((await publisher.exited).code).not.toBe(0);
  });
});

describe('webhooks', () => {
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    receiver = await new WebhookReceiver().start();
  });
  afterEach(async () => {
    await stopAllProcesses();
    await receiver.stop();
  });

  test('a session seen from an endpoint: live, disconnected, idle, key reset, deleted; signed, and never with the key', async () => {
    const origin = await startTestOrigin({ overrides: { webhooks: { pollMilliseconds: 100 } } });
    try {
      const hook = await origin.api('POST', '/api/v1/webhooks', { body: { url: receiver.url } });
      const secret = hook.body.secret as string;
      const stream = await createStream(origin, 'Hooked');
      await origin.db('streams').where({ id: stream.id }).update({ reconnect_window_seconds: 0 });
      const publisher = startPublisher({ url: origin.rtmpUrl(stream.streamKey), ...SMALL, seconds: 5 });
      await waitFor(() => receiver.ofType('stream.live').length === 1, { what: 'stream.live', timeoutMs: 20_000 });
      await publisher.exited;
      await waitFor(() => receiver.ofType('stream.idle').length === 1, { what: 'stream.idle', timeoutMs: 20_000 });
      const reset = await origin.api('POST', `/api/v1/streams/${stream.id}/reset-key`);
      await origin.api('DELETE', `/api/v1/streams/${stream.id}`);
      await waitFor(() => receiver.ofType('stream.deleted').length === 1, { what: 'stream.deleted', timeoutMs: 10_000 });

      expect(receiver.received.map((h) => h.json.type)).toEqual(['stream.live', 'stream.disconnected', 'stream.idle', 'stream.key_reset', 'stream.deleted']);
      for (const received of receiver.received) {
        expect(received.headers['content-type']).toBe('application/json');
        expect(received.headers['x-origin-event']).toBe(received.json.type);
        expect(verifySignature(secret, String(received.headers['x-origin-signature']), received.body, Math.floor(Date.now() / 1000))).toBe(true);
        expect(verifySignature(secret, String(received.headers['x-origin-signature']), `${received.body} `, Math.floor(Date.now() / 1000))).toBe(false);
        expect(received.json.data.stream).toMatchObject({ id: stream.id, playbackId: stream.playbackId, name: 'Hooked', hlsUrl: stream.hlsUrl });
        expect(received.body).not.toContain(stream.streamKey);
        expect(received.body).not.toContain(reset.body.streamKey);
      }
      expect(receiver.ofType('stream.disconnected')[0]!.json.data.session.why).toBe('unpublished');
      expect(receiver.ofType('stream.idle')[0]!.json.data.session.endReason).toBe('publisher_left');
      const log = await origin.api('GET', `/api/v1/webhooks/${hook.body.id}/deliveries`);
      expect(log.body.data).toHaveLength(5);
      expect(log.body.data.every((d: { status: string; attempts: number; lastStatus: number }) => d.status === 'succeeded' && d.attempts === 1 && d.lastStatus === 200)).toBe(true);
    } finally {
      await origin.close();
    }
  });

  test('an event recorded on this node is sent at once, not at the next poll of the outbox', async () => {
    const origin = await startTestOrigin({ overrides: { webhooks: { pollMilliseconds: 60_000 } } });
    try {
      await origin.api('POST', '/api/v1/webhooks', { body: { url: receiver.url, events: ['stream.key_reset'] } });
      const stream = await createStream(origin, 'Prompt');
      const asked = Date.now();
      await origin.api('POST', `/api/v1/streams/${stream.id}/reset-key`);
      await waitFor(() => receiver.received.length === 1, { what: 'the delivery', timeoutMs: 10_000 });
      expect(receiver.received[0]!.at - asked).toBeLessThan(2000);
    } finally {
      await origin.close();
    }
  });

  test("one endpoint's deliveries are sent one after another, in the order of the events", async () => {
    const origin = await startTestOrigin({ overrides: { webhooks: { pollMilliseconds: 1000 } } });
    try {
      receiver.answerAfterMs = (_hook, index) => (index === 0 ? 400 : 0);
      await origin.api('POST', '/api/v1/webhooks', { body: { url: receiver.url, events: ['stream.key_reset', 'stream.deleted'] } });
      const stream = await createStream(origin, 'Ordered');
      await origin.api('POST', `/api/v1/streams/${stream.id}/reset-key`);
      await origin.api('DELETE', `/api/v1/streams/${stream.id}`);
      await waitFor(() => receiver.received.length === 2, { what: 'both deliveries', timeoutMs: 10_000 });
      expect(receiver.received.map((h) => h.json.type)).toEqual(['stream.key_reset', 'stream.deleted']);
      // The second was not sent before the first was answered.
      expect(receiver.received[1]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(350);
    } finally {
      await origin.close();
    }
  });

  test('a 500 is retried with backoff; the delivery log shows both attempts', async () => {
    const origin = await startTestOrigin({ overrides: { webhooks: { pollMilliseconds: 100, retrySeconds: [1, 1] } } });
    try {
      receiver.respond = (_hook, index) => (index === 0 ? 500 : 204);
      const hook = await origin.api('POST', '/api/v1/webhooks', { body: { url: receiver.url, events: ['stream.key_reset'] } });
      const stream = await createStream(origin, 'Retry');
      await origin.api('POST', `/api/v1/streams/${stream.id}/reset-key`);
      await waitFor(() => receiver.received.length === 2, { what: 'the retry', timeoutMs: 10_000 });
      expect(receiver.received[1]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(900);
      expect(receiver.received[0]!.headers['x-origin-delivery']).toBe(receiver.received[1]!.headers['x-origin-delivery']);
      const delivery = await waitFor(
        async () => {
          const [d] = (await origin.api('GET', `/api/v1/webhooks/${hook.body.id}/deliveries`)).body.data;
          return d.status === 'succeeded' && d;
        },
        { what: 'the delivery to succeed', timeoutMs: 5000 },
      );
      expect(delivery).toMatchObject({ attempts: 2, lastStatus: 204, lastError: null, eventType: 'stream.key_reset' });
    } finally {
      await origin.close();
    }
  });

  test('deliveries survive a restart of the origin: the outbox is in the database', async () => {
    const first = await startTestOrigin({ overrides: { webhooks: { pollMilliseconds: 100, retrySeconds: [1, 1, 1, 1] } } });
    const port = receiver.port;
    await receiver.stop(); // the endpoint is down
    const hook = await first.api('POST', '/api/v1/webhooks', { body: { url: `http://127.0.0.1:${port}/hooks`, events: ['stream.key_reset'] } });
    const stream = await createStream(first, 'Persistent');
    await first.api('POST', `/api/v1/streams/${stream.id}/reset-key`);
    await waitFor(async () => (await first.api('GET', `/api/v1/webhooks/${hook.body.id}/deliveries`)).body.data[0]?.attempts >= 1, { what: 'a failed attempt', timeoutMs: 5000 });
    const pending = (await first.api('GET', `/api/v1/webhooks/${hook.body.id}/deliveries`)).body.data[0];
    expect(pending).toMatchObject({ status: 'pending' });
    expect(pending.lastError).toMatch(/ECONNREFUSED|fetch failed/);
    await first.stop();

    receiver = await new WebhookReceiver().start(port);
    const second = await startTestOrigin({ dir: first.dir, overrides: { webhooks: { pollMilliseconds: 100, retrySeconds: [1, 1, 1, 1] } } });
    try {
      await waitFor(() => receiver.ofType('stream.key_reset').length === 1, { what: 'the delivery after the restart', timeoutMs: 10_000 });
      expect(receiver.received[0]!.json.data.stream.id).toBe(stream.id);
      const done = await waitFor(
        async () => {
          const [d] = (await second.api('GET', `/api/v1/webhooks/${hook.body.id}/deliveries`)).body.data;
          return d.status === 'succeeded' && d;
        },
        { what: 'the delivery log', timeoutMs: 5000 },
      );
      expect(done.attempts).toBeGreaterThanOrEqual(2);
    } finally {
      await second.close();
      fs.rmSync(first.dir, { recursive: true, force: true });
    }
  });
});
