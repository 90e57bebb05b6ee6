import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseMediaPlaylist } from '../../scripts/lib/media-playlist';
import { freePort } from '../../scripts/lib/ports';
import { startNginx, type Nginx } from '../../scripts/bench/lib/nginx';
import { probeStreams } from '../support/ffprobe';
import { cmafInput, parseMaster } from '../support/hls';
import { withoutNodeLabel } from '../support/metrics';
import { createStream, startTestOrigin, useTestOrigin, type TestOrigin } from '../support/origin';
import { startPublisher, type RunningProcess } from '../support/processes';
import { startServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';
import { WebhookReceiver } from '../support/webhook-receiver';

jest.setTimeout(180_000);

interface Destination {
  id: string;
  url: string;
  streamKey: string;
  status: string;
  lastError: string | null;
}

/** The HLS of a stream on an origin: its source rendition's newest segment, probed, once it has two. */
async function probeHls(origin: TestOrigin, playbackId: string) {
  const masterUrl = `${origin.urls.publicUrl}/hls/${playbackId}/master.m3u8`;
  const text = await waitFor(
    async () => {
      const response = await fetch(masterUrl);
      return response.status === 200 ? response.text() : undefined;
    },
    { what: 'the forwarded stream on the second origin', timeoutMs: 60_000 },
  );
  const master = parseMaster(text);
  const url = new URL(master.variants[0]!.uri, masterUrl).toString();
  const playlist = await waitFor(
    async () => {
      const parsed = parseMediaPlaylist(await (await fetch(url)).text());
      return parsed.segments.length >= 2 ? parsed : undefined;
    },
    { what: 'two forwarded segments', timeoutMs: 60_000 },
  );
  return { streams: await probeStreams(cmafInput(origin.config.mediaDir, url, playlist.segments.at(-1)!)), master: text };
}

/** A TCP server standing in for a platform that misbehaves: `drop` takes a little and hangs up; `silent` never answers. */
async function fakeDestination(kind: 'drop' | 'silent'): Promise<{ url: string; connections: () => number; close: () => void }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    if (kind === 'drop') socket.once('data', () => setTimeout(() => socket.destroy(), 200));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `rtmp://127.0.0.1:${port}/live`,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('restreaming to other platforms', () => {
  const env = useTestOrigin({ overrides: { webhooks: { pollMilliseconds: 100 } } });
  let target: TestOrigin;
  let nginx: Nginx;
  let nginxPrefix: string;
  const destinations = async (streamId: string) => (await env.origin.api('GET', `/api/v1/streams/${streamId}/destinations`)).body.data as Destination[];
  const add = async (streamId: string, url: string, streamKey: string) => {
    const response = await env.origin.api('POST', `/api/v1/streams/${streamId}/destinations`, { body: { url, streamKey } });
    if (response.status !== 201) throw new Error(`adding a destination: ${response.status} ${response.text}`);
    return response.body as Destination;
  };
  const statusOf = async (streamId: string, id: string) => (await destinations(streamId)).find((d) => d.id === id);

  beforeAll(async () => {
    target = await startTestOrigin();
    nginxPrefix = fs.mkdtempSync(path.join(os.tmpdir(), 'restream-nginx-'));
    nginx = await startNginx(nginxPrefix, { workers: 1 });
  });
  afterAll(async () => {
    await nginx?.stop();
    fs.rmSync(nginxPrefix, { recursive: true, force: true });
    await target?.close();
  });

  test('the publish is copied to a second origin and to nginx-rtmp, both checked with ffprobe; keys are never shown back or logged', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Going out', { profile: 'passthrough' });
    const downstream = await createStream(target, 'Coming in', { profile: 'passthrough', reconnectWindowSeconds: 0 });
    const toOrigin = await add(stream.id, target.rtmpUrl('').replace(/\/$/, ''), downstream.streamKey);
    const toNginx = await add(stream.id, nginx.rtmpUrl, 'mirror-key-0123456789');
    expect(toOrigin).toMatchObject({ status: 'idle', lastError: null, streamKey: `****${downstream.streamKey.slice(-4)}` });
    expect(JSON.stringify(await destinations(stream.id))).not.toContain(downstream.streamKey);

    startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    await waitFor(async () => (await destinations(stream.id)).every((d) => d.status === 'live'), { what: 'both destinations live', timeoutMs: 60_000 });
    const forwarded = await probeHls(target, downstream.playbackId);
    expect(forwarded.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    // The audio came along: the second origin has an AAC rendition of it.
    expect(forwarded.master).toMatch(/TYPE=AUDIO.*\n[\s\S]*CODECS="avc1\.[0-9a-f]+,mp4a\.40\.2"/);
    const mirrored = path.join(nginx.hlsDir, 'mirror-key-0123456789.m3u8');
    await waitFor(() => fs.existsSync(mirrored), { what: "nginx-rtmp's copy", timeoutMs: 30_000 });
    const copy = await probeStreams(mirrored);
    expect(copy.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });
    expect(copy.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac' });

    const metrics = withoutNodeLabel(await origin.metrics.registry.getSingleMetricAsString('origin_restream_destinations'));
    expect(metrics).toContain(`origin_restream_destinations{playback_id="${stream.playbackId}",status="live"} 2`);
    for (const key of [downstream.streamKey, 'mirror-key-0123456789']) {
      expect(origin.logText()).not.toContain(key);
      expect(await origin.metrics.registry.metrics()).not.toContain(key);
    }

    // The session ends: so do the pushes (the second origin's stream ends too), and the statuses go back to idle.
    await origin.registry.stopStream(stream.id, 'kicked');
    await waitFor(async () => (await destinations(stream.id)).every((d) => d.status === 'idle'), { what: 'the pushes to stop', timeoutMs: 20_000 });
    await waitFor(() => target.registry.getByStreamId(downstream.id) === undefined, { what: 'the second origin to see the stream end', timeoutMs: 40_000 });
    expect((await env.origin.api('DELETE', `/api/v1/streams/${stream.id}/destinations/${toNginx.id}`)).status).toBe(204);
    expect((await env.origin.api('DELETE', `/api/v1/streams/${stream.id}/destinations/${toNginx.id}`)).status).toBe(404);
  });

  test('destinations that refuse, accept and drop, or never answer are retried with their errors, a webhook says so, and the others and the HLS output go on; with three live, a killed target leaves the other two going', async () => {
    const { origin } = env;
    const receiver = await new WebhookReceiver().start();
    await origin.api('POST', '/api/v1/webhooks', { body: { url: receiver.url, events: ['stream.restream_failed'] } });
    const stream = await createStream(origin, 'Many places', { profile: 'passthrough' });
    const [downstreamA, downstreamB] = [await createStream(target, 'Copy A', { profile: 'passthrough' }), await createStream(target, 'Copy B', { profile: 'passthrough' })];
    const drop = await fakeDestination('drop');
    const silent = await fakeDestination('silent');
    const refused = await add(stream.id, `rtmp://127.0.0.1:${await freePort()}/live`, 'refused-key-0001');
    const dropping = await add(stream.id, drop.url, 'dropping-key-0002');
    const blackHole = await add(stream.id, silent.url, 'silent-key-0003');
    const liveA = await add(stream.id, target.rtmpUrl('').replace(/\/$/, ''), downstreamA.streamKey);
    const liveB = await add(stream.id, target.rtmpUrl('').replace(/\/$/, ''), downstreamB.streamKey);
    const liveNginx = await add(stream.id, nginx.rtmpUrl, 'mirror-key-9876543210');
    try {
      let publisher: RunningProcess = startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 320, height: 180 });
      await waitFor(
        async () => {
          const all = await destinations(stream.id);
          const of = (id: string) => all.find((d) => d.id === id)!;
          return (
            [liveA, liveB, liveNginx].every((d) => of(d.id).status === 'live') && [refused, dropping, blackHole].every((d) => of(d.id).status === 'retrying' && of(d.id).lastError)
          );
        },
        { what: 'three live and three retrying', timeoutMs: 90_000, intervalMs: 500 },
      );
      expect((await statusOf(stream.id, blackHole.id))?.lastError).toBe('no answer from the destination');
      expect(drop.connections()).toBeGreaterThanOrEqual(1);
      expect(silent.connections()).toBeGreaterThanOrEqual(1);
      // Retried: more connections come.
      await waitFor(() => drop.connections() >= 2, { what: 'a second attempt at the dropping destination', timeoutMs: 30_000 });

      // The webhook names the destination and the error, never a key.
      await waitFor(() => receiver.ofType('stream.restream_failed').length >= 3, { what: 'failure webhooks', timeoutMs: 30_000 });
      const hook = receiver.ofType('stream.restream_failed').find((h) => h.json.data.destination.id === refused.id)!;
      expect(hook.json.data).toMatchObject({ stream: { id: stream.id }, destination: { id: refused.id, url: refused.url } });
      expect(typeof hook.json.data.destination.error).toBe('string');
      for (const h of receiver.received) for (const key of ['refused-key-0001', 'dropping-key-0002', 'silent-key-0003']) expect(h.body).not.toContain(key);

      // The publish's own HLS goes on, as do the copies on the second origin.
      const advancing = async (o: TestOrigin, playbackId: string) => {
        const master = parseMaster(await (await fetch(`${o.urls.publicUrl}/hls/${playbackId}/master.m3u8`)).text());
        const url = new URL(master.variants[0]!.uri, `${o.urls.publicUrl}/hls/${playbackId}/master.m3u8`).toString();
        const before = parseMediaPlaylist(await (await fetch(url)).text()).segments.at(-1)!.sequence;
        await waitFor(async () => parseMediaPlaylist(await (await fetch(url)).text()).segments.at(-1)!.sequence >= before + 2, {
          what: `${playbackId} to advance`,
          timeoutMs: 30_000,
        });
      };
      await advancing(origin, stream.playbackId);

      // nginx goes away: its push retries; the two copies on the second origin and the HLS output go on.
      await nginx.stop();
      await waitFor(async () => (await statusOf(stream.id, liveNginx.id))?.status === 'retrying', { what: 'the nginx push to retry', timeoutMs: 30_000 });
      await Promise.all([advancing(origin, stream.playbackId), advancing(target, downstreamA.playbackId), advancing(target, downstreamB.playbackId)]);
      expect((await statusOf(stream.id, liveA.id))?.status).toBe('live');
      expect((await statusOf(stream.id, liveB.id))?.status).toBe('live');

      // The publisher drops and comes back within the window: the pushes go on (the copies keep their sessions).
      const sessionsBefore = (await target.sessions.listByStream(downstreamA.id, 10)).length;
      publisher.child.kill('SIGKILL');
      await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'reconnecting', { what: 'the publisher to drop', timeoutMs: 20_000 });
      publisher = startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 320, height: 180 });
      await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'the publisher to come back', timeoutMs: 30_000 });
      await advancing(target, downstreamA.playbackId);
      expect((await target.sessions.listByStream(downstreamA.id, 10)).length).toBe(sessionsBefore);
      expect((await statusOf(stream.id, liveA.id))?.status).toBe('live');
      await origin.registry.stopStream(stream.id, 'kicked');
    } finally {
      drop.close();
      silent.close();
      await receiver.stop();
      nginx = await startNginx(nginxPrefix, { workers: 1 });
    }
  });

  test('bad input: URLs and keys that are not RTMP are refused with the field; an unknown stream or destination is a 404', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Bad destinations');
    for (const body of [
      {},
      { url: 'http://example.com/live', streamKey: 'k' },
      { url: 'rtmp://', streamKey: 'k' },
      { url: 'rtmp://host/app', streamKey: '' },
      { url: 'rtmp://host/app', streamKey: 'has space' },
      { url: 'rtmp://host/app', streamKey: 'k', extra: 1 },
    ]) {
      const response = await origin.api('POST', `/api/v1/streams/${stream.id}/destinations`, { body });
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
    }
    expect((await origin.api('POST', '/api/v1/streams/AAAAAAAAAAAAAAAA/destinations', { body: { url: 'rtmp://host/app', streamKey: 'k' } })).status).toBe(404);
    expect((await origin.api('DELETE', `/api/v1/streams/${stream.id}/destinations/AAAAAAAAAAAAAAAA`)).status).toBe(404);
    for (let i = 0; i < 10; i++) await add(stream.id, `rtmps://live.example.com:443/app${i}`, `key-${i}-0123456789`);
    expect((await origin.api('POST', `/api/v1/streams/${stream.id}/destinations`, { body: { url: 'rtmp://host/app', streamKey: 'eleventh' } })).status).toBe(409);

    // The CLI lists them with the keys masked, and removes one.
    const cli = async (...args: string[]) => {
      const run = startServerProcess({ DATABASE_URL: origin.config.databaseUrl, MEDIA_DIR: origin.config.mediaDir }, [...args, '--json']);
      const { code } = await run.exited;
      expect({ args, code, stderr: run.stderr() }).toEqual({ args, code: 0, stderr: '' });
      return JSON.parse(run.stdout());
    };
    const listed = (await cli('destinations', 'list', stream.id)) as Destination[];
    expect(listed).toHaveLength(10);
    expect(JSON.stringify(listed)).not.toContain('0123456789');
    expect(await cli('destinations', 'remove', stream.id, listed[0]!.id)).toEqual({ id: listed[0]!.id, removed: true });
    expect(await cli('destinations', 'add', stream.id, '--url', 'rtmp://127.0.0.1/live', '--key', 'from-the-shell-key')).toMatchObject({
      url: 'rtmp://127.0.0.1/live',
      streamKey: '****-key',
    });
    // Deleting the stream deletes its destinations.
    expect((await origin.api('DELETE', `/api/v1/streams/${stream.id}`)).status).toBe(204);
  });
});
