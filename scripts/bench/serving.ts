// 5. Serving: requests per second for a live media playlist and MB/s for a 2-second segment, with
// many concurrent clients (wrk), from the origin's /hls route and from nginx serving the very same
// files as static files. wrk runs on the same two cores as the server, for both.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { autoDeliveryProcesses } from '../../src/config/load';
import { generateId, generatePlaybackId } from '../../src/streams/keys';
import { workspace, withNginx, withOrigin } from './lib/bench-env';
import { summarize, type Summary } from './lib/stats';

const CONNECTIONS = 100;
const SECONDS = 10;

export function wrkAvailable(): string | undefined {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch (error) {
    // wrk --version exits 1 after printing its version
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'wrk is not installed: apt-get install -y wrk' : undefined;
  }
}

interface WrkResult {
  requestsPerSecond: number;
  megabytesPerSecond: number;
  errors: number;
}

function wrk(url: string): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, url], (error, stdout) => {
      if (error && !stdout) return reject(error);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      const transfer = /Transfer\/sec:\s+([\d.]+)(\w+)/.exec(stdout);
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      if (!rps || !transfer) return reject(new Error(`cannot read wrk's output:\n${stdout}`));
      const unit = { B: 1 / 1048576, KB: 1 / 1024, MB: 1, GB: 1024 }[transfer[2]!] ?? 1;
      resolve({
        requestsPerSecond: Number(rps[1]),
        megabytesPerSecond: Number(transfer[1]) * unit,
        errors: Number(non2xx?.[1] ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
      });
    });
  });
}

/** A live rendition as the origin writes it: 6 segments of 2 s at ~2.5 Mbps and its window playlist. */
function makeRendition(dir: string): { playlist: string; segment: string } {
  fs.mkdirSync(dir, { recursive: true });
  // prettier-ignore
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '12', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '2500k',
    '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-c:a', 'aac',
    '-f', 'hls', '-hls_time', '2', '-hls_list_size', '6', '-hls_flags', 'omit_endlist', '-hls_segment_filename', path.join(dir, 'seg_%d.ts'), path.join(dir, 'index.m3u8'),
  ]);
  return { playlist: 'index.m3u8', segment: 'seg_3.ts' };
}

/** Servers compared: the origin as it starts by default (one process), with a delivery process per further core, nginx. */
const SERVERS = ['origin', 'delivery', 'nginx'] as const;
type Server = (typeof SERVERS)[number];

type Kind = 'playlist' | 'segment';

export interface ServingResult {
  deliveryProcesses: number;
  playlistRps: Record<Server, Summary>;
  segmentMBps: Record<Server, Summary>;
  /** Each origin figure over nginx's of the same run: the machine's drift between runs cancels out. */
  ratioPerRun: Record<Kind, Record<Exclude<Server, 'nginx'>, Summary>>;
  segmentBytes: number;
  errors: number;
}

export async function measureServing(runs: number): Promise<ServingResult> {
  // What `auto` starts, and at least one: on one core the second column still shows the mechanism.
  const deliveryProcesses = Math.max(1, autoDeliveryProcesses(os.availableParallelism()));
  const results = {
    playlist: { origin: [] as number[], delivery: [] as number[], nginx: [] as number[] },
    segment: { origin: [] as number[], delivery: [] as number[], nginx: [] as number[] },
  };
  let errors = 0;
  let segmentBytes = 0;
  const files = workspace('serving');
  try {
    const [playbackId, sessionId] = [generatePlaybackId(), generateId()];
    const relative = path.join('live', playbackId, 'sessions', sessionId, 'source');
    const mediaDir = path.join(files.dir, 'media');
    const rendition = makeRendition(path.join(mediaDir, relative));
    segmentBytes = fs.statSync(path.join(mediaDir, relative, rendition.segment)).size;
    const urlPath = `${playbackId}/sessions/${sessionId}/source`;
    const record = (kind: Kind, server: Server, result: WrkResult) => {
      errors += result.errors;
      results[kind][server].push(kind === 'playlist' ? result.requestsPerSecond : result.megabytesPerSecond);
    };
    for (let run = 0; run < runs; run++) {
      for (const [server, processes] of [
        ['origin', 0],
        ['delivery', deliveryProcesses],
      ] as const) {
        await withOrigin({ MEDIA_DIR: mediaDir, HTTP_DELIVERY_PROCESSES: String(processes) }, async (origin) => {
          record('playlist', server, await wrk(`${origin.httpUrl}/hls/${urlPath}/${rendition.playlist}`));
          record('segment', server, await wrk(`${origin.httpUrl}/hls/${urlPath}/${rendition.segment}`));
        });
      }
      await withNginx(
        async (nginx) => {
          record('playlist', 'nginx', await wrk(`${nginx.httpUrl}/files/${relative}/${rendition.playlist}`));
          record('segment', 'nginx', await wrk(`${nginx.httpUrl}/files/${relative}/${rendition.segment}`));
        },
        { serveDir: mediaDir },
      );
    }
  } finally {
    files.cleanup();
  }
  const summaries = (kind: Kind) => Object.fromEntries(SERVERS.map((server) => [server, summarize(results[kind][server])])) as Record<Server, Summary>;
  const perRun = (kind: Kind, server: Exclude<Server, 'nginx'>) => summarize(results[kind][server].map((figure, run) => figure / results[kind].nginx[run]!));
  return {
    deliveryProcesses,
    playlistRps: summaries('playlist'),
    segmentMBps: summaries('segment'),
    ratioPerRun: {
      playlist: { origin: perRun('playlist', 'origin'), delivery: perRun('playlist', 'delivery') },
      segment: { origin: perRun('segment', 'origin'), delivery: perRun('segment', 'delivery') },
    },
    segmentBytes,
    errors,
  };
}
