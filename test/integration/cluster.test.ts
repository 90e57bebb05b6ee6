import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { masterUris } from '../../scripts/lib/hls-http';
import { parseMediaPlaylist, type MediaPlaylist } from '../../scripts/lib/media-playlist';
import { publishAnswer } from '../../scripts/lib/rtmp-client';
import { parseMaster } from '../support/hls';
import { createTestDatabase, mysqlUrl, type TestDatabase } from '../support/database';
import { createStream, startTestOrigin, type TestOrigin } from '../support/origin';
import { startPublisher, stopAllProcesses } from '../support/processes';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { TcpProxy } from '../support/tcp-proxy';
import { WebhookReceiver } from '../support/webhook-receiver';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

const LIVE_ELSEWHERE = { level: 'error', code: 'NetStream.Publish.BadName', description: 'This stream is already live on another server.' };

/** Origins sharing one MySQL database form a cluster (architecture notes: "Past one machine"). */
(mysqlUrl ? describe : describe.skip)('origins sharing one database [mysql]', () => {
  let database: TestDatabase;
  let dir: string;
  let a: TestOrigin;
  let b: TestOrigin;
  const servers: ServerProcess[] = [];
  const SECRET = 'cluster-test-secret-0123456789';
  // Commands reach other nodes over Redis only: the database is looked at once a minute here.
  const node = (id: string) => ({
    nodeId: id,
    clusterSecret: SECRET,
    redisUrl: 'redis://127.0.0.1:6379',
    live: { watchIntervalSeconds: 60 },
    cluster: { heartbeatSeconds: 0.5, leaseSeconds: 3 },
    webhooks: { pollMilliseconds: 100 },
  });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-cluster-'));
    database = await createTestDatabase('mysql', dir);
    a = await startTestOrigin({ sharedDatabaseUrl: database.url, overrides: node('node-a') });
    b = await startTestOrigin({ sharedDatabaseUrl: database.url, overrides: node('node-b') });
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) server.kill();
    await stopAllProcesses();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every node lists every node, with the URL the others reach it at', async () => {
    for (const origin of [a, b]) {
      const listed = await origin.api('GET', '/api/v1/nodes');
      expect(listed.status).toBe(200);
      const nodes = (listed.body.data as Array<Record<string, unknown>>).filter((n) => n.status === 'up');
      expect(nodes.map((n) => [n.id, n.url])).toEqual([
        ['node-a', a.urls.publicUrl],
        ['node-b', b.urls.publicUrl],
      ]);
      expect(nodes[0]).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), liveSessions: 0 });
    }
  });

  test('two publishers with one key on two nodes at once: exactly one is accepted', async () => {
    for (let round = 0; round < 3; round += 1) {
      const stream = await createStream(a, `Race ${round}`, { profile: 'passthrough', reconnectWindowSeconds: 0 });
      const answers = await Promise.all([publishAnswer(a.rtmpPort, stream.streamKey), publishAnswer(b.rtmpPort, stream.streamKey)]);
      expect(answers.filter((answer) => answer?.code === 'NetStream.Publish.Start')).toHaveLength(1);
      expect(answers.filter((answer) => answer?.code !== 'NetStream.Publish.Start')).toEqual([LIVE_ELSEWHERE]);
    }
  });

  test('a stream live on one node is refused on the other, with the reason logged; once it ends there, the other node takes it', async () => {
    const stream = await createStream(a, 'Handover', { profile: 'passthrough', reconnectWindowSeconds: 0 });
    const first = startPublisher({ url: b.rtmpUrl(stream.streamKey), width: 320, height: 180 });
    const session = await waitFor(
      async () => (await b.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession?.state === 'live' && (await b.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession,
      { what: 'live on node-b' },
    );
    expect(session.node).toBe('node-b');
    expect(await publishAnswer(a.rtmpPort, stream.streamKey)).toEqual(LIVE_ELSEWHERE);
    expect(a.logs.some((line) => line.msg === 'publish refused: the stream is live on another node' && line.owner === 'node-b' && line.playbackId === stream.playbackId)).toBe(
      true,
    );

    await first.stop();
    await waitFor(async () => (await b.api('GET', `/api/v1/streams/${stream.id}`)).body.status === 'idle', { what: 'the session on node-b to end' });
    // node-b gives the lease back just after its session ends: a publisher may be refused once, and retries as OBS does.
    const taken = await publishUntilLive(a, stream, 'live on node-a');
    expect(taken.node).toBe('node-a');
    // The sessions history names the node of each.
    const history = await a.api('GET', `/api/v1/streams/${stream.id}/sessions`);
    expect((history.body.data as Array<{ node: string }>).map((s) => s.node).sort()).toEqual(['node-a', 'node-b']);
  });

  test('any node serves any viewer: status, landing page, master, held playlist requests, parts and segments come from the node with the stream, and its viewers are counted there', async () => {
    // node-d is a server process answering viewers with a delivery process, which passes other
    // nodes' streams to its origin; node-a answers them in its main process.
    const d = startServerProcess({
      DATABASE_URL: database.url,
      MEDIA_DIR: path.join(dir, 'node-d-media'),
      NODE_ID: 'node-d',
      CLUSTER_SECRET: SECRET,
      HTTP_DELIVERY_PROCESSES: '1',
    });
    servers.push(d);
    const dUrl = await d.httpUrl();
    const stream = await createStream(a, 'Seen anywhere', { profile: 'passthrough', reconnectWindowSeconds: 0 });
    startPublisher({ url: b.rtmpUrl(stream.streamKey), width: 320, height: 180, keyframeSeconds: 1 });
    await waitFor(async () => (await b.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession?.state === 'live', { what: 'live on node-b' });

    for (const via of [a.urls.publicUrl, dUrl]) {
      const status = await waitFor(
        async () => {
          const body = (await (await fetch(`${via}/api/v1/public/streams/${stream.playbackId}`)).json()) as Record<string, unknown>;
          return body.status === 'live' && body;
        },
        { what: `${via} to see the stream live` },
      );
      expect(status.posterUrl).toMatch(new RegExp(`/hls/${stream.playbackId}/poster\\.jpg$`));
      expect(await (await fetch(`${via}/`)).text()).toContain('Seen anywhere');

      // The master is node-b's, byte for byte.
      const masterPath = `/hls/${stream.playbackId}/master.m3u8`;
      const viaNode = await fetch(`${via}${masterPath}`);
      const fromB = await fetch(`${b.urls.publicUrl}${masterPath}`);
      expect(viaNode.status).toBe(200);
      const masterText = await viaNode.text();
      expect(masterText).toBe(await fromB.text());
      expect(viaNode.headers.get('cache-control')).toBe(fromB.headers.get('cache-control'));
      const variant = parseMaster(masterText).variants[0]!;
      const mediaUrl = new URL(variant.uri, `${via}${masterPath}`).toString();
      const playlist = async (url: string): Promise<MediaPlaylist> => parseMediaPlaylist(await (await fetch(url)).text());
      await waitFor(async () => (await playlist(mediaUrl)).segments.length >= 2, { what: `two segments through ${via}` });

      // A blocking request for the next part, held on node-b, answered through this node.
      const hint = /seg_(\d+)\.(\d+)\.m4s$/.exec((await playlist(mediaUrl)).hint ?? '')!;
      const held = await fetch(`${mediaUrl}?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}&vsid=viewer-${via.length}`);
      expect(held.status).toBe(200);
      const heldText = await held.text();
      expect(heldText).toContain(`seg_${hint[1]}.${hint[2]}.m4s"`);

      // Parts, segments and init segments: the same bytes as from node-b.
      const current = parseMediaPlaylist(heldText);
      const segment = current.segments.at(-1)!;
      const part = current.partial?.parts[0] ?? segment.parts[0]!;
      for (const uri of [segment.uri, segment.map!, part.uri]) {
        const [one, other] = await Promise.all(
          [via, b.urls.publicUrl].map(async (base) => Buffer.from(await (await fetch(new URL(uri, mediaUrl.replace(via, base)))).arrayBuffer())),
        );
        expect(one!.length).toBeGreaterThan(0);
        expect(one!.equals(other!)).toBe(true);
      }
    }
    const listed = await a.api('GET', '/api/v1/streams?status=live');
    expect((listed.body.data as Array<{ id: string }>).map((s) => s.id)).toContain(stream.id);

    // The viewers who came in at node-a and node-d are counted on node-b, and every node shows the count.
    await waitFor(async () => (await b.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession?.viewers >= 2, { what: 'node-b to count both viewers' });
    await waitFor(async () => ((await (await fetch(`${a.urls.publicUrl}/api/v1/public/streams/${stream.playbackId}`)).json()) as { viewers: number }).viewers >= 2, {
      what: 'node-a to show the count',
    });

    // A request that already made its hop is answered where it lands: never a second hop.
    const secondHop = await fetch(`${a.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`, { headers: { 'x-origin-peer': SECRET } });
    expect(secondHop.status).toBe(404);
  });

  test('commands issued on a node that does not own the stream reach the owner at once: disconnect, disable, delete', async () => {
    const goLive = async (name: string) => {
      const stream = await createStream(a, name, { profile: 'passthrough', reconnectWindowSeconds: 0 });
      startPublisher({ url: b.rtmpUrl(stream.streamKey), width: 320, height: 180 });
      await waitFor(async () => (await b.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession?.state === 'live', { what: `${name} live on node-b` });
      await waitFor(async () => (await a.api('GET', `/api/v1/streams/${stream.id}`)).body.status === 'live', { what: `node-a to see ${name} live` });
      return stream;
    };
    const endsOnB = (streamId: string, reason: string) =>
      waitFor(async () => (await b.sessions.listByStream(streamId, 1))[0]?.endReason === reason, {
        what: `the session on node-b to end (${reason})`,
        timeoutMs: 10_000,
        intervalMs: 100,
      });

    const kicked = await goLive('Kicked elsewhere');
    const disconnect = await a.api('POST', `/api/v1/streams/${kicked.id}/disconnect`);
    expect(disconnect).toMatchObject({ status: 200, body: { disconnected: true } });
    await endsOnB(kicked.id, 'kicked');

    const disabled = await goLive('Disabled elsewhere');
    expect((await a.api('PATCH', `/api/v1/streams/${disabled.id}`, { body: { enabled: false } })).status).toBe(200);
    await endsOnB(disabled.id, 'stream_disabled');

    const deleted = await goLive('Deleted elsewhere');
    expect((await a.api('DELETE', `/api/v1/streams/${deleted.id}`)).status).toBe(204);
    await waitFor(() => b.registry.getByStreamId(deleted.id) === undefined, { what: 'the deleted stream to end on node-b', timeoutMs: 10_000, intervalMs: 100 });
  });

  test('a stream made signed on one node is refused at once on the node that has it; tokens and keys made on one node hold on every node', async () => {
    const stream = await createStream(a, 'Private elsewhere', { profile: 'passthrough', reconnectWindowSeconds: 0 });
    startPublisher({ url: b.rtmpUrl(stream.streamKey), width: 320, height: 180 });
    const master = (node: TestOrigin, token?: string) => fetch(`${node.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8${token ? `?token=${token}` : ''}`);
    await waitFor(async () => (await master(b)).status === 200, { what: 'the master on node-b', timeoutMs: 30_000 });
    // Made signed through node-a, with a key made there: node-b hears of both over Redis (it looks
    // at the database only once a minute here).
    expect((await a.api('PATCH', `/api/v1/streams/${stream.id}`, { body: { playback: 'signed' } })).status).toBe(200);
    const key = (await a.api('POST', '/api/v1/playback-keys', { body: { name: 'cluster' } })).body;
    const { token } = (await a.api('POST', `/api/v1/streams/${stream.id}/playback-tokens`, { body: { expiresInSeconds: 600 } })).body;
    await waitFor(async () => (await master(b)).status === 403, { what: 'node-b to refuse the stream without a token', timeoutMs: 10_000, intervalMs: 100 });
    for (const node of [a, b]) {
      expect((await master(node)).status).toBe(403);
      const allowed = await master(node, token);
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain(`token=${token}`);
    }
    // Revoking on node-a stops the key's tokens on node-b too.
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid).toBe(key.id);
    expect((await a.api('DELETE', `/api/v1/playback-keys/${key.id}`)).status).toBe(204);
    await waitFor(async () => (await master(b, token)).status === 403, { what: 'node-b to refuse the revoked key', timeoutMs: 10_000, intervalMs: 100 });
    await b.registry.stopStream(stream.id, 'kicked');
  });

  test('webhooks fire once per event, though every node delivers', async () => {
    const receiver = await new WebhookReceiver().start();
    try {
      expect((await a.api('POST', '/api/v1/webhooks', { body: { url: receiver.url, events: ['stream.live', 'stream.idle'] } })).status).toBe(201);
      const stream = await createStream(a, 'Hooked once', { profile: 'passthrough', reconnectWindowSeconds: 0 });
      const publisher = startPublisher({ url: b.rtmpUrl(stream.streamKey), width: 320, height: 180 });
      const ofStream = (type: string) => receiver.received.filter((hook) => hook.json?.type === type && hook.json.data.stream.id === stream.id);
      await waitFor(() => ofStream('stream.live').length > 0, { what: 'stream.live', timeoutMs: 20_000 });
      await publisher.stop();
      await waitFor(() => ofStream('stream.idle').length > 0, { what: 'stream.idle', timeoutMs: 20_000 });
      // Both nodes poll the outbox ten times a second: a second delivery would have come by now.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect([ofStream('stream.live').length, ofStream('stream.idle').length]).toEqual([1, 1]);
    } finally {
      await receiver.stop();
    }
  });

  test('a node killed with SIGKILL: shown gone; the next publish elsewhere continues its session (same URLs, sequence numbers going on after a discontinuity, the recording kept whole)', async () => {
    const token = 'cluster-test-admin-token-0123456789';
    // node-c shares node-a's media folder, as nodes sharing a network volume do: the recording can go on.
    const server = startServerProcess(
      { DATABASE_URL: database.url, MEDIA_DIR: a.config.mediaDir, NODE_ID: 'node-c', ADMIN_TOKEN: token, CLUSTER_SECRET: SECRET, HTTP_DELIVERY_PROCESSES: '0' },
      undefined,
      { processGroup: true },
    );
    servers.push(server);
    const url = await server.httpUrl();
    // The lease of node-c is the default: 5 s without renewal.
    const stream = await createStream(a, 'Failover', { profile: 'passthrough', reconnectWindowSeconds: 0, record: true });
    const rtmpPort = Number(/"rtmp":"rtmp:\/\/[^:]+:(\d+)/.exec(server.stdout())![1]);
    startPublisher({ url: `rtmp://127.0.0.1:${rtmpPort}/live/${stream.streamKey}`, width: 320, height: 180, keyframeSeconds: 1 });
    const onC = await waitFor(
      async () => {
        const body = await (await fetch(`${url}/api/v1/streams/${stream.id}`, { headers: { authorization: `Bearer ${token}` } })).json();
        return body.liveSession?.state === 'live' && body.liveSession;
      },
      { what: 'live on node-c' },
    );
    expect(await publishAnswer(a.rtmpPort, stream.streamKey)).toEqual(LIVE_ELSEWHERE);

    // A viewer at node-a, served by node-c.
    const masterUrl = `${a.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`;
    const master = await waitFor(
      async () => {
        const response = await fetch(masterUrl);
        return response.status === 200 && response.text();
      },
      { what: 'the master through node-a' },
    );
    const mediaUrl = new URL(parseMaster(master).variants[0]!.uri, masterUrl).toString();
    expect(mediaUrl).toContain(`/sessions/${onC.id}/`);
    const seenBefore = await waitFor(
      async () => {
        const playlist = parseMediaPlaylist(await (await fetch(mediaUrl)).text());
        return playlist.segments.length >= 3 && playlist;
      },
      { what: 'three segments from node-c' },
    );
    const highestBefore = Math.max(seenBefore.segments.at(-1)!.sequence, seenBefore.partial?.sequence ?? 0);

    server.kill();
    await stopAllProcesses();
    // The publisher reconnects, as OBS does, and the balancer sends it to node-a.
    const onA = await publishUntilLive(a, stream, 'node-a to take the stream over');
    // node-c's port refuses connections: its process is gone, node-a need not wait for the lease to lapse.
    expect(a.logs.some((line) => line.msg === 'the node that had the stream is gone (its port refuses connections): taking the stream over' && line.owner === 'node-c')).toBe(true);
    expect(onA).toMatchObject({ id: onC.id, node: 'node-a' });
    expect(onA.reconnects).toBeGreaterThanOrEqual(1);
    await waitFor(async () => ((await a.api('GET', '/api/v1/nodes')).body.data as Array<{ id: string; status: string }>).find((n) => n.id === 'node-c')?.status === 'gone', {
      what: 'node-c to be shown gone',
    });

    // The same URLs go on: sequence numbers after every one listed before, behind a discontinuity.
    // (node-a writes the master again, its BANDWIDTH from the first segments it measured itself.)
    expect(masterUris(masterUrl, await (await fetch(masterUrl)).text())).toEqual(masterUris(masterUrl, master));
    const after = await waitFor(
      async () => {
        const response = await fetch(mediaUrl);
        if (response.status !== 200) return false;
        const playlist = parseMediaPlaylist(await response.text());
        return playlist.segments.length >= 2 && playlist;
      },
      { what: 'segments from node-a at the same URL' },
    );
    expect(after.segments[0]!.sequence).toBeGreaterThan(highestBefore);
    expect(after.segments[0]!.discontinuity).toBe(true);
    expect(after.discontinuitySequence).toBe(seenBefore.discontinuitySequence);
    for (let i = 1; i < after.segments.length; i += 1) expect(after.segments[i]!.sequence).toBe(after.segments[i - 1]!.sequence + 1);
    const history = (await a.api('GET', `/api/v1/streams/${stream.id}/sessions`)).body.data as Array<{ id: string; node: string }>;
    expect(history.map((s) => [s.id, s.node])).toEqual([[onC.id, 'node-a']]);

    // Ended, the recording has node-c's segments and node-a's, in order, each file there.
    await stopAllProcesses();
    await waitFor(async () => (await a.api('GET', `/api/v1/streams/${stream.id}`)).body.status === 'idle', { what: 'the session to end' });
    const recordingFile = path.join(a.config.mediaDir, 'live', stream.playbackId, 'sessions', onC.id, 'source', 'recording.m3u8');
    const recording = parseMediaPlaylist(fs.readFileSync(recordingFile, 'utf8'));
    expect(recording.endList).toBe(true);
    const sequences = recording.segments.map((s) => s.sequence);
    expect(sequences[0]).toBe(1);
    expect(sequences.filter((n) => n <= highestBefore).length).toBeGreaterThanOrEqual(seenBefore.segments.at(-1)!.sequence - 1);
    expect(sequences.some((n) => n > highestBefore)).toBe(true);
    for (let i = 1; i < sequences.length; i += 1) expect(sequences[i]!).toBeGreaterThan(sequences[i - 1]!);
    for (const segment of recording.segments) expect(fs.existsSync(path.join(path.dirname(recordingFile), segment.uri))).toBe(true);
  });

  test('one node cut off from the database: it refuses publishes and gives its stream up before its lease lapses; another node continues it; the others are unaffected', async () => {
    const target = new URL(database.url);
    const proxy = await new TcpProxy(target.hostname, Number(target.port || 3306)).start();
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const cut = await startTestOrigin({ sharedDatabaseUrl: viaProxy.toString(), overrides: { ...node('node-cut'), ingest: { authorizeTimeoutSeconds: 2 } } });
    try {
      const [stream, other] = [await createStream(a, 'Cut off', { profile: 'passthrough' }), await createStream(a, 'Elsewhere', { profile: 'passthrough' })];
      startPublisher({ url: cut.rtmpUrl(stream.streamKey), width: 320, height: 180, keyframeSeconds: 1 });
      startPublisher({ url: b.rtmpUrl(other.streamKey), width: 320, height: 180, keyframeSeconds: 1 });
      const onCut = await waitFor(
        async () =>
          (await cut.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession?.state === 'live' && (await cut.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession,
        { what: 'live on node-cut' },
      );
      await waitFor(async () => (await b.api('GET', `/api/v1/streams/${other.id}`)).body.liveSession?.state === 'live', { what: 'live on node-b' });

      proxy.cut();
      expect(await publishAnswer(cut.rtmpPort, (await createStream(a, 'Refused', { profile: 'passthrough' })).streamKey)).toMatchObject({ code: 'NetStream.Publish.Denied' });
      await waitFor(() => cut.registry.getByStreamId(stream.id) === undefined, { what: 'node-cut to end its session', timeoutMs: 15_000 });
      expect(cut.logs.some((line) => line.msg === 'cannot renew a stream lease: ending the session so that another node can take the stream')).toBe(true);

      // The publisher comes back through the balancer to node-a, which continues the session.
      const onA = await publishUntilLive(a, stream, 'node-a to take the stream over');
      expect(onA).toMatchObject({ id: onCut.id, node: 'node-a' });
      // node-b's stream never noticed.
      expect((await b.api('GET', `/api/v1/streams/${other.id}`)).body.liveSession).toMatchObject({ state: 'live', reconnects: 0 });
    } finally {
      await stopAllProcesses();
      proxy.restore();
      await cut.close();
      await proxy.stop();
    }
  });

  test('a drained node refuses publishes and turns unready, hands its stream over at the deadline to the node its publisher reconnects to, then exits; SIGUSR2 drains too', async () => {
    const token = 'cluster-test-admin-token-0123456789';
    const server = startServerProcess({
      DATABASE_URL: database.url,
      MEDIA_DIR: path.join(dir, 'node-e-media'),
      NODE_ID: 'node-e',
      ADMIN_TOKEN: token,
      CLUSTER_SECRET: SECRET,
      HTTP_DELIVERY_PROCESSES: '0',
    });
    servers.push(server);
    const url = await server.httpUrl();
    const rtmpPort = Number(/"rtmp":"rtmp:\/\/[^:]+:(\d+)/.exec(server.stdout())![1]);
    const stream = await createStream(a, 'Drained', { profile: 'passthrough' });
    const publisher = startPublisher({ url: `rtmp://127.0.0.1:${rtmpPort}/live/${stream.streamKey}`, width: 320, height: 180, keyframeSeconds: 1 });
    const onE = await waitFor(
      async () => {
        const body = await (await fetch(`${url}/api/v1/streams/${stream.id}`, { headers: { authorization: `Bearer ${token}` } })).json();
        return body.liveSession?.state === 'live' && body.liveSession;
      },
      { what: 'live on node-e' },
    );

    // Asked through another node.
    const asked = await a.api('POST', '/api/v1/nodes/node-e/drain', { body: { deadlineSeconds: 3 } });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ id: 'node-e', draining: true });
    expect((await a.api('POST', '/api/v1/nodes/no-such-node/drain', { body: {} })).status).toBe(404);
    expect((await a.api('POST', '/api/v1/nodes/node-e/drain', { body: { deadlineSeconds: -1 } })).status).toBe(400);
    const ready = await waitFor(
      async () => {
        const response = await fetch(`${url}/readyz`);
        return response.status === 503 && ((await response.json()) as { checks: Record<string, { ok: boolean }> });
      },
      { what: 'node-e to turn unready' },
    );
    expect(ready.checks.service).toMatchObject({ ok: false });
    const other = await createStream(a, 'Not here', { profile: 'passthrough' });
    expect(await publishAnswer(rtmpPort, other.streamKey)).toMatchObject({ code: 'NetStream.Publish.Denied', description: expect.stringContaining('taken out of service') });

    // At the deadline the publisher is let go; it reconnects to node-a, which continues the session.
    await publisher.exited;
    const onA = await publishUntilLive(a, stream, 'node-a to continue the drained session');
    expect(onA).toMatchObject({ id: onE.id, node: 'node-a' });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toContain('"msg":"drained: no session left"');
    expect(((await a.api('GET', '/api/v1/nodes')).body.data as Array<{ id: string; status: string }>).find((n) => n.id === 'node-e')?.status).toBe('gone');

    // SIGUSR2 drains the node it is sent to: with nothing live, it exits at once.
    const signalled = startServerProcess({
      DATABASE_URL: database.url,
      MEDIA_DIR: path.join(dir, 'node-f-media'),
      NODE_ID: 'node-f',
      CLUSTER_SECRET: SECRET,
      HTTP_DELIVERY_PROCESSES: '0',
    });
    servers.push(signalled);
    await signalled.httpUrl();
    signalled.child.kill('SIGUSR2');
    expect(await signalled.exited).toEqual({ code: 0, signal: null });
  });

  test('a node stopped cleanly is shown gone at once, and frees its streams at once', async () => {
    const c = await startTestOrigin({ sharedDatabaseUrl: database.url, overrides: node('node-c2') });
    const stream = await createStream(a, 'Clean stop', { profile: 'passthrough', reconnectWindowSeconds: 0 });
    startPublisher({ url: c.rtmpUrl(stream.streamKey), width: 320, height: 180 });
    await waitFor(async () => (await c.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession?.state === 'live', { what: 'live on node-c2' });
    await c.close();
    expect(((await a.api('GET', '/api/v1/nodes')).body.data as Array<{ id: string; status: string }>).find((n) => n.id === 'node-c2')?.status).toBe('gone');
    expect(await publishAnswer(a.rtmpPort, stream.streamKey)).toMatchObject({ code: 'NetStream.Publish.Start' });
  });
});

/**
 * Publishes to `origin` as OBS reconnecting through a balancer does: refused (the stream still held
 * elsewhere), it tries again, until the stream is live there. Its live session.
 */
async function publishUntilLive(origin: TestOrigin, stream: { id: string; streamKey: string }, what: string): Promise<Record<string, any>> {
  const publish = () => startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 320, height: 180, keyframeSeconds: 1 });
  let publisher = publish();
  return waitFor(
    async () => {
      if (publisher.child.exitCode !== null) publisher = publish();
      // Until this node has the stream, it passes the question to the node it last saw with it.
      const live = (await origin.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession;
      return live?.node === origin.config.nodeId && live;
    },
    { what, timeoutMs: 40_000, intervalMs: 250 },
  );
}
