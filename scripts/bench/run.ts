// npm run bench: every measurement of docs/benchmarks.md, the origin next to nginx-rtmp in the
// same run. Options: --only first-playlist,latency,transcode,capacity,serving,authorization,held,cluster
//                    --runs N (3)  --levels 1,10,20,40,60  --mysql mysql://root@127.0.0.1:3306/origin_test
//                    --redis redis://127.0.0.1:6379  --viewers 1000  --kills 10 (cluster)
// Results: printed as tables, and written whole to bench-results/<time>.json.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureAuthorization } from './authorization';
import { measureCapacity, type CapacityPoint } from './capacity';
import { measureCluster } from './cluster';
import { measureFirstPlaylist } from './first-playlist';
import { measureHeldRequests } from './held-requests';
import { measureLatency } from './latency';
import { ROOT } from './lib/bench-env';
import { nginxAvailable } from './lib/nginx';
import { show, summarize, type Summary } from './lib/stats';
import { measureServing, wrkAvailable } from './serving';
import { measureTranscodeCost } from './transcode-cost';

const ALL = ['first-playlist', 'latency', 'transcode', 'capacity', 'serving', 'authorization', 'held', 'cluster'];

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: ALL.join(',') },
    runs: { type: 'string', default: '3' },
    levels: { type: 'string', default: '1,10,20,40,60' },
    mysql: { type: 'string', default: process.env.BENCH_MYSQL_URL ?? process.env.TEST_MYSQL_URL },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    viewers: { type: 'string', default: '1000' },
    kills: { type: 'string', default: '10' },
  },
});
const selected = new Set(values.only!.split(','));
const runs = Number(values.runs);

const ratio = (ours: Summary, anchor: Summary) => (ours.median / anchor.median).toFixed(2);
const print = (text: string) => process.stdout.write(`${text}\n`);

async function main(): Promise<void> {
  const missing = [nginxAvailable(), selected.has('serving') ? wrkAvailable() : undefined].filter(Boolean);
  if (missing.length > 0) throw new Error(missing.join('\n'));
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const results: Record<string, unknown> = {
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      ffmpeg: execFileSync('ffmpeg', ['-version']).toString().split('\n')[0],
      nginx: spawnSync('nginx', ['-v']).stderr.toString().trim(),
    },
    at: new Date().toISOString(),
  };

  if (selected.has('first-playlist')) {
    const r = await measureFirstPlaylist(runs);
    results.firstPlaylist = r;
    print(`\n## Time to first playlist (s, median [min–max] of ${runs})\n| | origin | nginx-rtmp | difference |\n|---|---|---|---|`);
    print(`| passthrough | ${show(r.passthrough)} | ${show(r.nginx)} | ${(r.passthrough.median - r.nginx.median).toFixed(2)} |`);
    print(`| ladder | ${show(r.ladder)} | ${show(r.nginx)} | ${(r.ladder.median - r.nginx.median).toFixed(2)} |`);
  }
  if (selected.has('latency')) {
    const r = await measureLatency();
    results.latency = r;
    print(
      "\n## Latency (s; glass-to-glass p50/p95 of every reading, then the players' medians; others median [min–max] of the samples)\n| | glass-to-glass p50 | p95 | per player | segment in playlist | same, by program date-time | player behind the live edge (hls.js) |\n|---|---|---|---|---|---|---|",
    );
    for (const [name, l] of Object.entries(r))
      print(
        `| ${name} | ${l.glassP50.toFixed(2)} | ${l.glassP95.toFixed(2)} | ${show(l.glass)} | ${show(l.segment)} | ${l.programDateTime.runs ? show(l.programDateTime) : '–'} | ${show(l.distance)} |`,
      );
  }
  if (selected.has('transcode')) {
    const r = await measureTranscodeCost(runs);
    results.transcode = r;
    print(`\n## Transcoding cost, one 720p30 stream, default ladder (${r.renditions.join(', ')}) (cores)\n| | cores | vs bare ffmpeg |\n|---|---|---|`);
    print(
      `| origin (Node + ffmpeg), from 2 min in | ${show(r.origin, 3)} | ${ratio(r.origin, r.bare)} (per run ${show(r.ratioPerRun)}); vs ffmpeg alone, same window: ${show(r.aloneRatio, 3)} |`,
    );
    print(`| … its Node process | ${show(r.originNode, 3)} | |`);
    print(`| … its ffmpeg | ${show(r.originFfmpeg, 3)} | origin / its own ffmpeg: ${show(r.ownShare, 3)} |`);
    print(`| origin in its first 40 s (V8 still compiling) | ${show(r.firstOrigin, 3)} | ${ratio(r.firstOrigin, r.bare)} |`);
    print(`| … its Node process | ${show(r.firstOriginNode, 3)} | |`);
    print(`| bare ffmpeg, same command, output thrown away | ${show(r.bare, 3)} | 1.00 |`);
    print(`| ffmpeg alone, the same fragments as HLS fMP4 files, beside the origin | ${show(r.alone, 3)} | ${ratio(r.alone, r.bare)} |`);
    print(
      `| ffmpeg alone, the same, taking the publisher's RTMP itself, beside the origin | ${show(r.aloneReceiving, 3)} | ${ratio(r.aloneReceiving, r.bare)}; origin / it, same window: ${show(r.aloneReceivingRatio, 3)} |`,
    );
    print(`| one ffmpeg per rendition | ${show(r.perRendition, 3)} | ${ratio(r.perRendition, r.bare)} |`);
    print(`| bare, without the source copy (720p encoded) | ${show(r.bareWithoutSourceRung, 3)} | ${ratio(r.bareWithoutSourceRung, r.bare)} |`);
  }
  if (selected.has('capacity')) {
    const r = await measureCapacity(values.levels!.split(',').map(Number), runs);
    results.capacity = r;
    print(
      `\n## Passthrough capacity (median [min–max] of ${runs}; advancing: the worst run)\n| publishers | origin cores per stream | PSS MiB | advancing | nginx cores per stream | PSS MiB | advancing | ratio per stream (per run) |\n|---|---|---|---|---|---|---|---|`,
    );
    r.runs[0]!.origin.forEach(({ publishers }, i) => {
      const [origin, nginx] = [r.runs.map((run) => run.origin[i]!), r.runs.map((run) => run.nginx[i]!)];
      const ratios = summarize(r.runs.map((run) => run.origin[i]!.coresPerStream / run.nginx[i]!.coresPerStream));
      const side = (points: CapacityPoint[]) =>
        `${show(summarize(points.map((p) => p.coresPerStream)), 4)} | ${summarize(points.map((p) => p.pssMiB)).median} | ${Math.min(...points.map((p) => p.advancing))}/${publishers}`;
      print(`| ${publishers} | ${side(origin)} | ${side(nginx)} | ${show(ratios)} |`);
    });
  }
  if (selected.has('serving')) {
    const r = await measureServing(runs);
    results.serving = r;
    print(`\n## Serving (wrk, 100 connections, 10 s; median [min–max] of ${runs})`);
    print(`| | origin | ratio | origin, ${r.deliveryProcesses} delivery process(es) | ratio | nginx |\n|---|---|---|---|---|---|`);
    const rows = [
      ['live playlist, requests/s', r.playlistRps, r.ratioPerRun.playlist],
      [`${Math.round(r.segmentBytes / 1024)} KiB segment, MB/s`, r.segmentMBps, r.ratioPerRun.segment],
    ] as const;
    for (const [label, figures, perRun] of rows) {
      const against = (server: 'origin' | 'delivery') => `${ratio(figures[server], figures.nginx)} (per run ${show(perRun[server])})`;
      print(`| ${label} | ${show(figures.origin, 0)} | ${against('origin')} | ${show(figures.delivery, 0)} | ${against('delivery')} | ${show(figures.nginx, 0)} |`);
    }
    if (r.errors > 0) print(`(${r.errors} errors or non-2xx answers)`);
  }
  if (selected.has('authorization')) {
    const r = await measureAuthorization(values.mysql);
    results.authorization = r;
    print('\n## Publish authorization (ms from the publish command to the answer, 500 publishes)\n| | median [min–max] | p99 |\n|---|---|---|');
    print(`| SQLite | ${show(r.sqlite.ms)} | ${r.sqlite.p99.toFixed(2)} |`);
    if (r.mysql) print(`| MySQL | ${show(r.mysql.ms)} | ${r.mysql.p99.toFixed(2)} |`);
  }

  if (selected.has('held')) {
    const r = await measureHeldRequests();
    results.held = r;
    print(
      `\n## Held requests (${r.clients} blocking reloads of one stream waiting for the same part, ${r.rounds} rounds, ${r.skippedRounds} skipped; ms from the part's first answer to each answer's first byte)\n| p50 | p99 | max | not 200 |\n|---|---|---|---|`,
    );
    print(`| ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.failures} |`);
  }
  if (selected.has('cluster')) {
    if (!values.mysql) throw new Error('the cluster measurement needs MySQL: --mysql mysql://root@127.0.0.1:3306/origin_test');
    const r = await measureCluster({ mysqlUrl: values.mysql, redisUrl: values.redis!, viewers: Number(values.viewers), kills: Number(values.kills) });
    results.cluster = r;
    print(`\n## Cluster: three origins, HAProxy, the nginx cache (${r.viewers} low-latency viewers through the cache)\n| reaching the origins | per part or segment |\n|---|---|`);
    print(`| playlist requests, per part | ${r.playlistRequestsPerPart.toFixed(2)} (viewers sent ${r.viewerRequestsPerPart.toFixed(0)} playlist and part requests per part) |`);
    print(`| part requests, per part | ${r.partRequestsPerPart.toFixed(2)} |`);
    print(`| segment requests, per segment | ${r.segmentRequestsPerSegment.toFixed(2)} |`);
    print(`\n| | p50 | p95 | min–max |\n|---|---|---|---|`);
    print(
      `| failover gap, kill to a new part through the cache (s, ${r.failoverGapSeconds.samples.length} kills) | ${r.failoverGapSeconds.median.toFixed(1)} | ${r.failoverGapSeconds.p95.toFixed(1)} | ${r.failoverGapSeconds.min.toFixed(1)}–${r.failoverGapSeconds.max.toFixed(1)} |`,
    );
    print(
      `| refusal of a key live on another node (ms) | ${r.refusalMs.median.toFixed(0)} | ${r.refusalMs.p95.toFixed(0)} | ${r.refusalMs.min.toFixed(0)}–${r.refusalMs.max.toFixed(0)} |`,
    );
  }

  const out = path.join(ROOT, 'bench-results');
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2));
  print(`\nresults: ${path.relative(ROOT, file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
