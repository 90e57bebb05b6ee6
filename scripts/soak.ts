// Soak test: several live streams through the default ladder for a long while, sampling the
// origin's RSS, open files, CPU (its own and its ffmpeg children's) and ffmpeg count every interval.
//   npm run soak -- [--minutes 30] [--streams 2] [--interval 60] [--out soak.json]
// It builds the server, starts it on loopback ports with a temporary database and media folder,
// pushes 720p30 test patterns, polls every stream like a viewer, and cleans everything up after.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getMedia, getText, masterUris } from './lib/hls-http';
import { startOriginProcess, startTestPattern, type ManagedProcess } from './lib/processes';
import { cpuSeconds, childrenOf, openFiles, rssBytes } from './lib/proc';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    streams: { type: 'string', default: '2' },
    interval: { type: 'string', default: '60' },
    out: { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const streamCount = Number(values.streams);
const intervalSeconds = Number(values.interval);

interface Sample {
  minute: number;
  rssMiB: number;
  openFiles: number;
  originCpu: number;
  ffmpegCpu: number;
  ffmpegCount: number;
  playlistsAdvancing: number;
  viewerErrors: number;
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-soak-'));
  const processes: ManagedProcess[] = [];
  const origin = await startOriginProcess(root, { DATABASE_URL: `sqlite:${dir}/origin.db`, MEDIA_DIR: `${dir}/media`, LOG_LEVEL: 'info' });
  processes.push(origin.process);
  try {
    const streams = [];
    for (let i = 0; i < streamCount; i++) {
      const stream = await origin.api('POST', '/api/v1/streams', { name: `Soak ${i + 1}` });
      processes.push(startTestPattern({ url: `${origin.rtmpUrl}/${stream.streamKey}` }));
      streams.push(stream as { playbackId: string });
    }
    for (const stream of streams) {
      const deadline = Date.now() + 60_000;
      while ((await newestSequence(origin.httpUrl, stream.playbackId)) === undefined) {
        if (Date.now() > deadline) throw new Error(`stream ${stream.playbackId} did not go live`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    const viewers = streams.map((stream) => pollLikeAViewer(origin.httpUrl, stream.playbackId));

    const samples: Sample[] = [];
    const pid = origin.process.child.pid!;
    let last = { origin: cpuSeconds(pid), ffmpeg: sumCpu(pid), at: Date.now() };
    const lastSequences = new Map<string, number>();
    const started = Date.now();
    process.stdout.write(`soak: ${streamCount} streams for ${minutes} min, sampling every ${intervalSeconds} s\n`);
    process.stdout.write(
      '| minute | RSS MiB | open files | origin CPU (cores) | ffmpeg CPU (cores) | ffmpeg processes | playlists advancing | viewer errors |\n|---|---|---|---|---|---|---|---|\n',
    );
    while (Date.now() - started < minutes * 60_000) {
      await new Promise((resolve) => setTimeout(resolve, intervalSeconds * 1000));
      const now = { origin: cpuSeconds(pid), ffmpeg: sumCpu(pid), at: Date.now() };
      const elapsed = (now.at - last.at) / 1000;
      let advancing = 0;
      for (const stream of streams) {
        const sequence = await newestSequence(origin.httpUrl, stream.playbackId);
        if (sequence !== undefined && sequence > (lastSequences.get(stream.playbackId) ?? -1)) advancing += 1;
        if (sequence !== undefined) lastSequences.set(stream.playbackId, sequence);
      }
      const sample: Sample = {
        minute: Math.round((now.at - started) / 60_000),
        rssMiB: Math.round(rssBytes(pid) / 1048576),
        openFiles: openFiles(pid),
        originCpu: round((now.origin - last.origin) / elapsed),
        ffmpegCpu: round((now.ffmpeg - last.ffmpeg) / elapsed),
        ffmpegCount: childrenOf(pid).filter((child) => child.command === 'ffmpeg').length,
        playlistsAdvancing: advancing,
        viewerErrors: viewers.reduce((sum, viewer) => sum + viewer.errors, 0),
      };
      samples.push(sample);
      last = now;
      process.stdout.write(
        `| ${sample.minute} | ${sample.rssMiB} | ${sample.openFiles} | ${sample.originCpu} | ${sample.ffmpegCpu} | ${sample.ffmpegCount}/${streamCount} | ${advancing}/${streamCount} | ${sample.viewerErrors} |\n`,
      );
    }
    for (const viewer of viewers) viewer.stop();
    if (values.out) fs.writeFileSync(values.out, JSON.stringify({ streams: streamCount, minutes, intervalSeconds, cpus: os.cpus().length, samples }, null, 2));
  } finally {
    for (const managed of processes.reverse()) await managed.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function sumCpu(parent: number): number {
  return childrenOf(parent)
    .filter((child) => child.command === 'ffmpeg')
    .reduce((sum, child) => sum + cpuSeconds(child.pid), 0);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The newest segment of the stream's first variant; undefined while there is none. */
async function newestSequence(httpUrl: string, playbackId: string): Promise<number | undefined> {
  const masterUrl = `${httpUrl}/hls/${playbackId}/master.m3u8`;
  const master = await getText(masterUrl);
  const first = master === undefined ? undefined : masterUris(masterUrl, master)[0];
  return first === undefined ? undefined : (await getMedia(first))?.segments.at(-1)?.sequence;
}

/** Fetches the master, the first variant and its newest segment every 2 s, as a player does; counts failures. */
function pollLikeAViewer(httpUrl: string, playbackId: string) {
  const state = { errors: 0, stop: () => clearInterval(timer) };
  const masterUrl = `${httpUrl}/hls/${playbackId}/master.m3u8?vsid=soak-${playbackId.slice(0, 8)}`;
  const timer = setInterval(async () => {
    const failed = (what: string) => {
      state.errors += 1;
      process.stderr.write(`soak: viewer of ${playbackId}: ${what}\n`);
    };
    const master = await getText(masterUrl);
    if (master === undefined) return failed('no master playlist');
    const playlistUrl = masterUris(masterUrl, master)[0];
    if (playlistUrl === undefined) return failed('an empty master playlist');
    const playlist = await getMedia(playlistUrl);
    const newest = playlist?.segments.at(-1);
    if (!newest) return failed(`no segment in ${playlistUrl}`);
    const segment = await fetch(new URL(newest.uri, playlistUrl)).catch(() => undefined);
    await segment?.arrayBuffer();
    if (!segment?.ok) failed(`segment ${newest.uri}: ${segment?.status ?? 'no answer'}`);
  }, 2000);
  return state;
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
