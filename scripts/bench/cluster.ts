// 8. A cluster as shipped (deploy/): three origins on MySQL (and Redis), HAProxy for RTMP and the
// nginx cache for viewers, all on this machine's loopback. Measured:
// - what reaches the origins for each part and segment while N low-latency viewers play through
//   the cache (each asks for the playlist with the next part, then that part, as hls.js does);
// - the failover gap: the owner is killed with SIGKILL, the publisher reconnects at once through
//   HAProxy; from the kill to the first new part listed through the cache (the killed node is
//   started again between kills, so that there are always three);
// - how long a publish with a key live on another node takes to be refused, from the connection
//   to the answer (as from HAProxy: the PROXY line, the RTMP handshake, connect, publish).
import { randomBytes } from 'node:crypto';
import knex from 'knex';
import { startCacheTier } from '../lib/cache-tier';
import { freePort } from '../lib/ports';
import { startOriginProcess, startTestPattern, type ManagedProcess, type OriginProcess } from '../lib/processes';
import { RtmpTestClient } from '../lib/rtmp-client';
import { startRtmpBalancer } from '../lib/rtmp-balancer';
import { ROOT, workspace } from './lib/bench-env';
import { percentile, sleep, summarize, type Summary } from './lib/stats';

const WATCH_SECONDS = 30;
const REFUSALS = 20;

export interface ClusterResult {
  viewers: number;
  /** Over the watching window, per part (or segment) the stream produced, requests that reached any origin. */
  playlistRequestsPerPart: number;
  partRequestsPerPart: number;
  segmentRequestsPerSegment: number;
  /** The same requests, as the viewers sent them to the cache, per part. */
  viewerRequestsPerPart: number;
  failoverGapSeconds: Summary & { p95: number; samples: number[] };
  refusalMs: Summary & { p95: number };
}

interface Node {
  id: string;
  httpPort: number;
  rtmpPort: number;
  origin: OriginProcess;
}

export async function measureCluster(options: { mysqlUrl: string; redisUrl: string; viewers: number; kills: number }): Promise<ClusterResult> {
  const space = workspace('cluster');
  const database = await scratchDatabase(options.mysqlUrl);
  const ports = await Promise.all([1, 2, 3].map(async () => ({ httpPort: await freePort(), rtmpPort: await freePort() })));
  const cache = await startCacheTier(ports.map((p) => p.httpPort));
  const secret = randomBytes(24).toString('hex');
  // One admin token for every node; requests go to a node's own port (its public URL is the cache's).
  const adminToken = `bench-${randomBytes(16).toString('hex')}`;
  const startNode = (i: number) =>
    startOriginProcess(ROOT, {
      DATABASE_URL: database.url,
      MEDIA_DIR: `${space.dir}/media-${i}`,
      NODE_ID: `origin${i + 1}`,
      NODE_URL: `http://127.0.0.1:${ports[i]!.httpPort}`,
      CLUSTER_SECRET: secret,
      REDIS_URL: options.redisUrl,
      PUBLIC_URL: cache.url,
      HTTP_PORT: String(ports[i]!.httpPort),
      RTMP_PORT: String(ports[i]!.rtmpPort),
      RTMP_PROXY_PROTOCOL: 'true',
      ADMIN_TOKEN: adminToken,
    });
  const api = async (node: Node, method: string, urlPath: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${node.httpPort}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status}`);
    return (await response.json()) as any;
  };
  const nodes: Node[] = [];
  for (let i = 0; i < 3; i++) nodes.push({ id: `origin${i + 1}`, ...ports[i]!, origin: await startNode(i) });
  const balancer = await startRtmpBalancer(ports);
  let publisher: ManagedProcess | undefined;
  let publishing = false;
  const viewers: Array<Promise<void>> = [];
  let watching = true;
  try {
    await waitUntil(async () => (await fetch(`${cache.url}/healthz`)).status === 200, 20_000);
    const stream = (await api(nodes[0]!, 'POST', '/api/v1/streams', { name: 'Cluster bench', profile: 'passthrough' })) as { id: string; streamKey: string; hlsUrl: string };
    const publish = () => startTestPattern({ url: `rtmp://127.0.0.1:${balancer.port}/live/${stream.streamKey}`, width: 640, height: 360 });
    publishing = true;
    publisher = publish();
    // As OBS does: a publish that is refused or dropped is tried again at once.
    const keeper = setInterval(() => {
      if (publishing && publisher?.child.exitCode !== null) publisher = publish();
    }, 100);
    const master = await waitUntil(async () => {
      const response = await fetch(stream.hlsUrl);
      return response.status === 200 ? response.text() : undefined;
    }, 30_000);
    const playlistUrl = new URL(
      master.split('\n').find((line) => line.endsWith('.m3u8') && !line.startsWith('#'))!,
      stream.hlsUrl,
    ).toString();
    await waitUntil(async () => ((await (await fetch(playlistUrl)).text()).match(/#EXTINF/g)?.length ?? 0) >= 2 || undefined, 20_000);

    // Viewers through the cache, and what reaches the origins meanwhile.
    let viewerRequests = 0;
    for (let i = 0; i < options.viewers; i++)
      viewers.push(
        watch(
          playlistUrl,
          () => watching,
          () => (viewerRequests += 2),
        ),
      );
    await sleep(5000);
    const before = { counts: await originCounts(nodes), position: position(await (await fetch(playlistUrl)).text()), viewerRequests };
    await sleep(WATCH_SECONDS * 1000);
    const afterText = await (await fetch(playlistUrl)).text();
    const after = { counts: await originCounts(nodes), position: position(afterText), viewerRequests };
    const segments = after.position.msn - before.position.msn;
    const parts = segments * partsPerSegment(afterText);
    watching = false;
    await Promise.all(viewers.splice(0));

    // Failover: kill the owner, measure until a new part is listed through the cache.
    const gaps: number[] = [];
    for (let kill = 0; kill < options.kills; kill++) {
      const owner = await waitUntil(async () => {
        const listed = (await api(nodes[0]!, 'GET', '/api/v1/nodes').catch(() => undefined)) ?? (await api(nodes[1]!, 'GET', '/api/v1/nodes'));
        return (listed.data as Array<{ id: string; liveSessions: number; status: string }>).find((n) => n.liveSessions === 1 && n.status === 'up')?.id;
      }, 20_000);
      const node = nodes.find((n) => n.id === owner)!;
      // The owner's own newest part, not the cache's copy (up to a second old): a part it listed
      // before the kill must not count as the stream going on.
      const direct = new URL(playlistUrl);
      direct.host = `127.0.0.1:${node.httpPort}`;
      const seen = position(await (await fetch(direct)).text());
      node.origin.process.child.kill('SIGKILL');
      const killedAt = performance.now();
      // The node that continues starts a new segment: a part of a later segment than the owner's last.
      await waitUntil(
        async () => {
          const response = await fetch(playlistUrl).catch(() => undefined);
          if (response?.status !== 200) return undefined;
          return position(await response.text()).msn > seen.msn || undefined;
        },
        60_000,
        50,
      );
      gaps.push((performance.now() - killedAt) / 1000);
      await node.origin.process.stop();
      node.origin = await startNode(nodes.indexOf(node));
      // Until HAProxy and nginx see it again, and its playlists settle.
      await sleep(4000);
    }

    // Refusals of a key live elsewhere, asked of the nodes that do not have it.
    const owner = await waitUntil(
      async () => ((await api(nodes[0]!, 'GET', '/api/v1/nodes')).data as Array<{ id: string; liveSessions: number }>).find((n) => n.liveSessions === 1)?.id,
      20_000,
    );
    const others = nodes.filter((n) => n.id !== owner);
    const refusals: number[] = [];
    for (let i = 0; i < REFUSALS; i++) {
      const started = performance.now();
      // As HAProxy would hand it over: the PROXY line first (the nodes expect it).
      const client = await RtmpTestClient.connect(others[i % others.length]!.rtmpPort);
      client.send(Buffer.from('PROXY TCP4 127.0.0.1 127.0.0.1 40000 1935\r\n'));
      await client.handshake();
      client.sendPublishSequence('live', stream.streamKey, balancer.port);
      const answer = await client.nextStatus();
      client.close();
      if (answer?.code !== 'NetStream.Publish.BadName') throw new Error(`expected a refusal, got ${answer?.code}`);
      refusals.push(performance.now() - started);
    }
    publishing = false;
    clearInterval(keeper);

    return {
      viewers: options.viewers,
      playlistRequestsPerPart: (after.counts.playlist - before.counts.playlist) / parts,
      partRequestsPerPart: (after.counts.part - before.counts.part) / parts,
      segmentRequestsPerSegment: (after.counts.segment - before.counts.segment) / segments,
      viewerRequestsPerPart: (after.viewerRequests - before.viewerRequests) / parts,
      failoverGapSeconds: { ...summarize(gaps), p95: percentile(gaps, 95), samples: gaps },
      refusalMs: { ...summarize(refusals), p95: percentile(refusals, 95) },
    };
  } finally {
    watching = false;
    publishing = false;
    await Promise.all(viewers);
    await publisher?.stop();
    await Promise.all(nodes.map((node) => node.origin.process.stop()));
    await balancer.stop();
    await cache.stop();
    await database.drop();
    space.cleanup();
  }
}

/** A low-latency viewer: the playlist with the next part (held until it exists), then that part. */
async function watch(playlistUrl: string, going: () => boolean, counted: () => void): Promise<void> {
  let hint: string | undefined;
  while (going()) {
    try {
      const [, msn, part] = hint ? /seg_(\d+)\.(\d+)\.m4s/.exec(hint)! : [];
      const url = msn ? `${playlistUrl}?_HLS_msn=${msn}&_HLS_part=${part}` : playlistUrl;
      const text = await (await fetch(url, { signal: AbortSignal.timeout(15_000) })).text();
      const next = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)?.[1];
      if (hint) await (await fetch(new URL(hint, playlistUrl), { signal: AbortSignal.timeout(15_000) })).arrayBuffer();
      counted();
      hint = next;
    } catch {
      hint = undefined;
      await sleep(200);
    }
  }
}

/** The newest part listed: its segment's sequence number and its index. */
function position(playlist: string): { msn: number; part: number } {
  const parts = [...playlist.matchAll(/#EXT-X-PART:[^\n]*URI="seg_(\d+)\.(\d+)\.m4s"/g)];
  const last = parts.at(-1);
  return last ? { msn: Number(last[1]), part: Number(last[2]) } : { msn: 0, part: 0 };
}

/** Parts of the newest complete segment that still lists its parts. */
function partsPerSegment(playlist: string): number {
  const parts = [...playlist.matchAll(/URI="seg_(\d+)\.(\d+)\.m4s"/g)].map((m) => Number(m[1]));
  const complete = parts.filter((msn) => msn < Math.max(...parts));
  const newest = Math.max(...complete);
  return complete.filter((msn) => msn === newest).length;
}

/** HLS answers by kind, summed over every node (each node's own requests, hops included). */
async function originCounts(nodes: Node[]): Promise<Record<'playlist' | 'part' | 'segment', number>> {
  const counts = { playlist: 0, part: 0, segment: 0 };
  for (const node of nodes) {
    const text = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
    for (const match of text.matchAll(/^origin_hls_requests_total\{kind="(playlist|part|segment)",status="\d+"[^}]*\} (\d+)/gm))
      counts[match[1] as keyof typeof counts] += Number(match[2]);
  }
  return counts;
}

async function scratchDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const target = new URL(url);
  const name = `origin_bench_${randomBytes(4).toString('hex')}`;
  const admin = knex({
    client: 'mysql2',
    connection: { host: target.hostname, port: Number(target.port || 3306), user: decodeURIComponent(target.username), password: decodeURIComponent(target.password) },
  });
  await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4', [name]);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    drop: async () => {
      await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
      await admin.destroy();
    },
  };
}

async function waitUntil<T>(probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(everyMs);
  }
}
