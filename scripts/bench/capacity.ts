// 4. Passthrough capacity: 1, 10, 20, 40, 60 publishers pushing a pre-encoded 2.5 Mbps 720p30
// file at the same time. CPU and memory (PSS) of the server (the origin with its ffmpeg children; nginx's
// master and workers), and whether every playlist keeps advancing. The same for nginx-rtmp, in
// alternating runs.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { childrenOf, cpuSeconds, pssBytes } from '../lib/proc';
import { manage, type ManagedProcess } from '../lib/processes';
import { getMedia, getText, masterUris, poll } from '../lib/hls-http';
import { workspace, withNginx, withOrigin } from './lib/bench-env';
import { sleep } from './lib/stats';

const WARMUP_MS = 10_000;
const MEASURE_MS = 20_000;

export interface CapacityPoint {
  publishers: number;
  /** Cores used by the server and its children. */
  cores: number;
  coresPerStream: number;
  /** Proportional set size of the server and its children (shared libraries counted once in all). */
  pssMiB: number;
  /** Playlists that gained at least 5 segments (of 10 expected) over the measuring window. */
  advancing: number;
  /** Cores used by the publishers (the same load for both servers; not counted above). */
  publisherCores: number;
}

/** One run: every level for the origin, then for nginx. */
export interface CapacityRun {
  origin: CapacityPoint[];
  nginx: CapacityPoint[];
}

export interface CapacityResult {
  runs: CapacityRun[];
}

/** A 2.5 Mbps 720p30 H.264 + AAC file with 2-second GOPs, made once. */
function preEncoded(dir: string): string {
  const file = path.join(dir, 'capacity.flv');
  // prettier-ignore
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '20', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '2500k',
    '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', file,
  ]);
  return file;
}

function pushFile(file: string, url: string): ManagedProcess {
  return manage('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file, '-c', 'copy', '-f', 'flv', url]);
}

function tree(pid: number, childCommand: string): number[] {
  return [
    pid,
    ...childrenOf(pid)
      .filter((c) => c.command === childCommand)
      .map((c) => c.pid),
  ];
}

async function point(
  file: string,
  count: number,
  target: { publishUrl: (i: number) => Promise<string>; playlistUrl: (i: number) => Promise<string | undefined>; pids: () => number[] },
): Promise<CapacityPoint> {
  const urls = await Promise.all(Array.from({ length: count }, (_, i) => target.publishUrl(i)));
  const publishers: ManagedProcess[] = [];
  for (const url of urls) {
    publishers.push(pushFile(file, url));
    await sleep(50);
  }
  try {
    const playlists = await Promise.all(urls.map((_, i) => poll(() => target.playlistUrl(i), 30_000 + count * 500, 250)));
    await sleep(WARMUP_MS);
    const newest = async () => Promise.all(playlists.map(async (url) => (url ? (await getMedia(url))?.segments.at(-1)?.sequence : undefined) ?? -1));
    const serverCpu = () => target.pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const publisherCpu = () => publishers.reduce((sum, p) => sum + cpuSeconds(p.child.pid!), 0);
    const before = { server: serverCpu(), publishers: publisherCpu(), sequences: await newest(), at: Date.now() };
    await sleep(MEASURE_MS);
    const pss = target.pids().reduce((sum, pid) => sum + pssBytes(pid), 0);
    const after = { server: serverCpu(), publishers: publisherCpu(), sequences: await newest(), at: Date.now() };
    const seconds = (after.at - before.at) / 1000;
    const cores = (after.server - before.server) / seconds;
    return {
      publishers: count,
      cores: round(cores),
      coresPerStream: round(cores / count, 4),
      pssMiB: Math.round(pss / 1048576),
      advancing: after.sequences.filter((sequence, i) => sequence >= before.sequences[i]! + 5).length,
      publisherCores: round((after.publishers - before.publishers) / seconds),
    };
  } finally {
    await Promise.all(publishers.map((p) => p.stop()));
    await sleep(3000);
  }
}

function round(n: number, digits = 2): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

/**
 * `runs` times, alternating the servers: on a shared VM the figure per stream moves by 10–25% from
 * run to run, for nginx as much as for the origin.
 */
export async function measureCapacity(levels: number[], runs: number): Promise<CapacityResult> {
  const space = workspace('capacity');
  try {
    const file = preEncoded(space.dir);
    const result: CapacityResult = { runs: [] };
    for (let run = 0; run < runs; run++) result.runs.push(await measureOnce(file, levels));
    return result;
  } finally {
    space.cleanup();
  }
}

async function measureOnce(file: string, levels: number[]): Promise<CapacityRun> {
  const origin = await withOrigin({ NODE_ENV: 'bench' }, async (server) => {
    const points: CapacityPoint[] = [];
    for (const count of levels) {
      const streams = await Promise.all(
        Array.from({ length: count }, (_, i) => server.api('POST', '/api/v1/streams', { name: `capacity ${count}/${i}`, profile: 'passthrough', reconnectWindowSeconds: 0 })),
      );
      points.push(
        await point(file, count, {
          publishUrl: async (i) => `${server.rtmpUrl}/${streams[i].streamKey}`,
          playlistUrl: async (i) => {
            const master = `${server.httpUrl}/hls/${streams[i].playbackId}/master.m3u8`;
            const text = await getText(master);
            return text === undefined ? undefined : masterUris(master, text)[0];
          },
          pids: () => tree(server.process.child.pid!, 'ffmpeg'),
        }),
      );
    }
    return points;
  });
  const nginx = await withNginx(async (server) => {
    const points: CapacityPoint[] = [];
    for (const count of levels) {
      points.push(
        await point(file, count, {
          publishUrl: async (i) => `${server.rtmpUrl}/c${count}x${i}`,
          playlistUrl: async (i) => {
            const url = `${server.httpUrl}/hls/c${count}x${i}.m3u8`;
            return (await getText(url)) ? url : undefined;
          },
          pids: () => tree(server.pid, 'nginx'),
        }),
      );
    }
    return points;
  });
  return { origin, nginx };
}
