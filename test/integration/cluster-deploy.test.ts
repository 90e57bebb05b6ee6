import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseMediaPlaylist, type MediaPlaylist } from '../../scripts/lib/media-playlist';
import { createTestDatabase, mysqlUrl, type TestDatabase } from '../support/database';
import { startRtmpBalancer, type RtmpBalancer } from '../../scripts/lib/rtmp-balancer';
import { makeCertificate } from '../support/certificate';
import { parseMaster } from '../support/hls';
import { startCacheTier, type CacheTier } from '../../scripts/lib/cache-tier';
import { freePort } from '../../scripts/lib/ports';
import { startPublisher, stopAllProcesses, type RunningProcess } from '../support/processes';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(240_000);

const ADMIN_TOKEN = 'cluster-deploy-admin-token-0123456789';
const SECRET = 'cluster-deploy-secret-0123456789';
const VIEWERS = 200;

interface Node {
  id: string;
  httpPort: number;
  rtmpPort: number;
  process: ServerProcess;
}

/**
 * A low-latency viewer behind the cache, as hls.js plays: it asks for the playlist with the part its
 * last answer hinted at, and notes every sequence number it sees. Errors (a node gone) are retried.
 */
class Viewer {
  highest = 0;
  /** A sequence number listed for two different segments (another start time): never allowed. */
  reused = false;
  advances = 0;
  /** Each sequence number seen, with its segment's EXT-X-PROGRAM-DATE-TIME. */
  private readonly seen = new Map<number, string | undefined>();
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly playlistUrl: string) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    let hint: [string, string] | undefined;
    while (this.running) {
      try {
        const url = hint ? `${this.playlistUrl}?_HLS_msn=${hint[0]}&_HLS_part=${hint[1]}` : this.playlistUrl;
        const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
        if (response.status !== 200) throw new Error(String(response.status));
        const playlist = parseMediaPlaylist(await response.text());
        this.note(playlist);
        const next = /seg_(\d+)\.(\d+)\.m4s$/.exec(playlist.hint ?? '');
        hint = next ? [next[1]!, next[2]!] : undefined;
      } catch {
        hint = undefined;
        if (this.running) await sleep(500);
      }
    }
  }

  private note(playlist: MediaPlaylist): void {
    for (const segment of playlist.segments) {
      const known = this.seen.get(segment.sequence);
      if (this.seen.has(segment.sequence) && known !== segment.programDateTime) this.reused = true;
      this.seen.set(segment.sequence, segment.programDateTime);
    }
    const last = playlist.segments.at(-1)?.sequence ?? 0;
    if (last > this.highest) {
      this.highest = last;
      this.advances += 1;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

/** The shipped deployment (deploy/): docs/cluster.md describes it. */
(mysqlUrl ? describe : describe.skip)('a cluster as shipped: three origins on MySQL, HAProxy for RTMP, the nginx cache for viewers [mysql]', () => {
  let database: TestDatabase;
  let dir: string;
  let cache: CacheTier;
  let balancer: RtmpBalancer;
  const nodes: Node[] = [];
  const viewers: Viewer[] = [];
  let stopPublishing = () => undefined as void;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-cluster-deploy-'));
    database = await createTestDatabase('mysql', dir);
    const ports = await Promise.all([1, 2, 3].map(async () => ({ httpPort: await freePort(), rtmpPort: await freePort(), rtmpsPort: await freePort() })));
    // One certificate for the public host name, on every node.
    const certificate = makeCertificate(dir, 'rtmps');
    cache = await startCacheTier(ports.map((p) => p.httpPort));
    for (const [i, { httpPort, rtmpPort, rtmpsPort }] of ports.entries()) {
      const id = `origin${i + 1}`;
      const process = startServerProcess({
        DATABASE_URL: database.url,
        MEDIA_DIR: path.join(dir, id),
        NODE_ID: id,
        NODE_URL: `http://127.0.0.1:${httpPort}`,
        CLUSTER_SECRET: SECRET,
        ADMIN_TOKEN,
        PUBLIC_URL: cache.url,
        HTTP_PORT: String(httpPort),
        RTMP_PORT: String(rtmpPort),
        RTMPS_PORT: String(rtmpsPort),
        TLS_CERT_FILE: certificate.certFile,
        TLS_KEY_FILE: certificate.keyFile,
        HTTP_DELIVERY_PROCESSES: '0',
        RTMP_PROXY_PROTOCOL: 'true',
      });
      nodes.push({ id, httpPort, rtmpPort, process });
    }
    for (const node of nodes) await node.process.httpUrl();
    // nginx left the nodes alone while they were starting (max_fails): until it tries them again.
    await waitFor(async () => (await fetch(`${cache.url}/healthz`)).status === 200, { what: 'the cache to reach the nodes' });
    balancer = await startRtmpBalancer(ports);
  });
  afterAll(async () => {
    stopPublishing();
    await Promise.all(viewers.map((viewer) => viewer.stop()));
    await stopAllProcesses();
    for (const node of nodes) node.process.kill();
    await Promise.all(nodes.map((node) => node.process.exited));
    await balancer?.stop();
    await cache?.stop();
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const api = async (method: string, urlPath: string, body?: unknown) => {
    const response = await fetch(`${cache.url}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const publishThroughBalancer = (streamKey: string, tls: boolean) =>
    startPublisher({
      url: `${tls ? `rtmps://127.0.0.1:${balancer.tlsPort}` : `rtmp://127.0.0.1:${balancer.port}`}/live/${streamKey}`,
      width: 320,
      height: 180,
      keyframeSeconds: 1,
    });
  /** The stream's first media playlist through the cache, once it has two segments. */
  const playingThroughCache = async (hlsUrl: string) => {
    const master = await waitFor(
      async () => {
        const response = await fetch(hlsUrl);
        return response.status === 200 && response.text();
      },
      { what: 'the master through the cache', timeoutMs: 30_000 },
    );
    const playlistUrl = new URL(parseMaster(master).variants[0]!.uri, hlsUrl).toString();
    await waitFor(async () => parseMediaPlaylist(await (await fetch(playlistUrl)).text()).segments.length >= 2, { what: 'two segments', timeoutMs: 20_000 });
    return playlistUrl;
  };
  /** As OBS does: a refused or dropped publish is tried again. */
  const keepPublishing = (streamKey: string, tls = false) => {
    const state = { publisher: publishThroughBalancer(streamKey, tls) as RunningProcess, stopped: false };
    const timer = setInterval(() => {
      if (!state.stopped && state.publisher.child.exitCode !== null) state.publisher = publishThroughBalancer(streamKey, tls);
    }, 250);
    return () => {
      state.stopped = true;
      clearInterval(timer);
    };
  };

  test('ffmpeg publishes over rtmps:// through HAProxy: the TLS connection reaches a node after its PROXY line, and the stream plays through the cache', async () => {
    const created = await api('POST', '/api/v1/streams', { name: 'Shipped cluster over TLS', profile: 'passthrough', reconnectWindowSeconds: 0 });
    expect(created.status).toBe(201);
    const stream = created.body as { id: string; streamKey: string; hlsUrl: string };
    stopPublishing = keepPublishing(stream.streamKey, true);
    const live = await waitFor(
      async () => {
        const body = (await api('GET', `/api/v1/streams/${stream.id}`)).body as { liveSession: { node: string; clientAddress?: string; state: string } | null };
        return body.liveSession?.state === 'live' && body.liveSession;
      },
      { what: 'the stream to go live over RTMPS', timeoutMs: 60_000 },
    );
    expect(nodes.map((node) => node.id)).toContain(live.node);
    // Whichever node the operator's request reaches, it answers with the live session and its last
    // hour, which only the node with the stream has (the others pass the request on).
    const fromNode = async (node: Node, urlPath: string) =>
      (await (await fetch(`http://127.0.0.1:${node.httpPort}${urlPath}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as any;
    await waitFor(
      async () => {
        const views = await Promise.all(nodes.map((node) => fromNode(node, `/api/v1/streams/${stream.id}`)));
        return views.every((view) => view.liveSession?.node === live.node);
      },
      { what: 'every node to show the live session', timeoutMs: 20_000 },
    );
    await waitFor(
      async () => {
        const stats = await Promise.all(nodes.map((node) => fromNode(node, `/api/v1/streams/${stream.id}/stats`)));
        return stats.every((answer) => answer.data?.length >= 1);
      },
      { what: "every node to give the stream's samples", timeoutMs: 30_000 },
    );
    // The publisher's address, from the PROXY line (HAProxy's and the publisher's are both loopback here).
    expect(live.clientAddress).toBe('127.0.0.1');
    await playingThroughCache(stream.hlsUrl);
    stopPublishing();
    await stopAllProcesses();
    // Ended, so that the nodes' live sessions are the next test's alone.
    await waitFor(async () => (await api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession === null, { what: 'the session to end' });
  });

  test(`a publish through HAProxy reaches ${VIEWERS} low-latency viewers through nginx; its owner killed with SIGKILL, the publisher's reconnect lands elsewhere and every viewer advances again, sequence numbers only going up`, async () => {
    const created = await api('POST', '/api/v1/streams', { name: 'Shipped cluster', profile: 'passthrough' });
    expect(created.status).toBe(201);
    const stream = created.body as { id: string; playbackId: string; streamKey: string; hlsUrl: string };
    expect(stream.hlsUrl.startsWith(cache.url)).toBe(true);
    stopPublishing = keepPublishing(stream.streamKey);

    const playlistUrl = await playingThroughCache(stream.hlsUrl);

    for (let i = 0; i < VIEWERS; i++) viewers.push(new Viewer(playlistUrl));
    await waitFor(() => viewers.every((viewer) => viewer.advances >= 3), { what: 'every viewer to advance', timeoutMs: 30_000 });

    // The owner, from the nodes list (through the cache, to any node).
    const owner = await waitFor(
      async () => {
        const listed = (await api('GET', '/api/v1/nodes')).body.data as Array<{ id: string; liveSessions: number }>;
        return listed.find((node) => node.liveSessions === 1)?.id;
      },
      { what: 'the owner in the nodes list' },
    );
    const ownerNode = nodes.find((node) => node.id === owner)!;
    stopPublishing();
    ownerNode.process.kill();
    const killedAt = Date.now();
    const highestAtKill = viewers.map((viewer) => viewer.highest);
    await stopAllProcesses();
    stopPublishing = keepPublishing(stream.streamKey);

    await waitFor(() => viewers.every((viewer, i) => viewer.highest >= highestAtKill[i]! + 2), { what: 'every viewer to advance again', timeoutMs: 60_000, intervalMs: 100 });
    const gapMs = Date.now() - killedAt;
    process.stdout.write(`failover: every one of ${VIEWERS} viewers advanced two segments past the kill ${(gapMs / 1000).toFixed(1)} s after it\n`);
    expect(viewers.filter((viewer) => viewer.reused)).toHaveLength(0);

    // The stream was taken over at once (the dead node's port refused connections); the node is
    // shown gone once it has been silent for a lease.
    const listed = await waitFor(
      async () => {
        const data = (await api('GET', '/api/v1/nodes')).body.data as Array<{ id: string; status: string; liveSessions: number }>;
        return data.find((node) => node.id === owner)?.status === 'gone' && data;
      },
      { what: 'the killed node to be shown gone' },
    );
    expect(listed.filter((node) => node.liveSessions === 1).map((node) => node.id)).not.toContain(owner);
    const history = (await api('GET', `/api/v1/streams/${stream.id}/sessions`)).body.data as Array<{ node: string }>;
    expect(history).toHaveLength(1);
    expect(history[0]!.node).not.toBe(owner);
    stopPublishing();
  });
});
