// 3. Transcoding cost: CPU of one 720p30 live stream through the default ladder in the origin
// (the Node process and its ffmpeg), next to the same ffmpeg command run bare (fed the same FLV
// through a pipe), the same ladder as one ffmpeg per rendition, and the ladder without the
// source-copy rendition (every rung encoded). The publishers' own CPU is never counted.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { buildFfmpegArgs, toArgv } from '../../src/transcode/ffmpeg-args';
import { planLadder, type LadderPlan } from '../../src/transcode/ladder';
import { resolveProfile } from '../../src/transcode/profiles';
import { testPatternArgs } from '../lib/test-pattern';
import { childrenOf, cpuSeconds } from '../lib/proc';
import { startTestPattern } from '../lib/processes';
import { ROOT, workspace, withOrigin } from './lib/bench-env';
import { sleep, summarize, type Summary } from './lib/stats';

const WARMUP_MS = 10_000;
const MEASURE_MS = 30_000;

/** The source every variant is fed: what the test publisher sends. */
const SOURCE = {
  video: { codec: 'h264' as const, width: 1280, height: 720, frameRate: 30, codecString: 'avc1.42c01f' },
  audio: { codec: 'aac' as const, codecString: 'mp4a.40.2', channels: 2, sampleRate: 48000 },
};

/** CPU cores used by `pids()` over the measuring window, after a warm-up. */
async function coresOf(pids: () => number[]): Promise<number> {
  await sleep(WARMUP_MS);
  const sum = () => pids().reduce((total, pid) => total + cpuSeconds(pid), 0);
  const before = sum();
  const start = Date.now();
  await sleep(MEASURE_MS);
  return (sum() - before) / ((Date.now() - start) / 1000);
}

/** ffmpeg with our arguments for `plan`, its stdin fed by a test publisher writing FLV to a pipe. */
async function bareCores(plans: LadderPlan[]): Promise<number> {
  const space = workspace('bare');
  const config = loadConfig({ env: {}, configDir: path.join(ROOT, 'config'), cwd: space.dir });
  const processes = plans.map((plan, i) => {
    const outputDir = path.join(space.dir, String(i));
    for (const rendition of [...plan.video, ...plan.audio]) fs.mkdirSync(path.join(outputDir, rendition.name), { recursive: true });
    const argv = toArgv(
      buildFfmpegArgs({
        plan,
        outputDir,
        preset: config.transcode.preset,
        segmentSeconds: config.hls.segmentSeconds,
        startNumber: 0,
        input: { hasVideo: true, hasAudio: true },
      }),
    );
    const transcoder = spawn('ffmpeg', argv, { stdio: ['pipe', 'ignore', 'ignore'] });
    const publisher = spawn('ffmpeg', testPatternArgs({ url: '', toStdout: true }), { stdio: ['ignore', 'pipe', 'ignore'] });
    publisher.stdout.pipe(transcoder.stdin);
    transcoder.stdin.on('error', () => undefined);
    return { transcoder, publisher };
  });
  try {
    return await coresOf(() => processes.map((p) => p.transcoder.pid!));
  } finally {
    for (const { transcoder, publisher } of processes) {
      publisher.kill('SIGKILL');
      transcoder.kill('SIGKILL');
    }
    await sleep(500);
    space.cleanup();
  }
}

function planFor(profileName: string, sourceRung?: boolean): LadderPlan {
  const config = loadConfig({ env: {}, configDir: path.join(ROOT, 'config'), cwd: ROOT });
  const profile = resolveProfile(config, profileName);
  return planLadder(SOURCE, { profile: { ...profile, ...(sourceRung !== undefined && { sourceRung }) }, audioBitrateKbps: config.transcode.audioBitrateKbps });
}

/**
 * The ladder as one process per video rendition, each decoding the source on its own; audio and
 * the poster are made once, by the first.
 */
function perRendition(plan: LadderPlan): LadderPlan[] {
  return plan.video.map((video, i) => {
    const { poster, ...rest } = plan;
    return { ...rest, video: [video], audio: i === 0 ? plan.audio : [], ...(i === 0 && poster && { poster }) };
  });
}

export interface TranscodeCostResult {
  origin: Summary;
  bare: Summary;
  perRendition: Summary;
  bareWithoutSourceRung: Summary;
  renditions: string[];
}

export async function measureTranscodeCost(runs: number): Promise<TranscodeCostResult> {
  const results = { origin: [] as number[], bare: [] as number[], perRendition: [] as number[], withoutSource: [] as number[] };
  const ladder = planFor('ladder');
  for (let run = 0; run < runs; run++) {
    results.origin.push(
      await withOrigin({}, async (origin) => {
        const stream = await origin.api('POST', '/api/v1/streams', { name: 'cost', reconnectWindowSeconds: 0 });
        const publisher = startTestPattern({ url: `${origin.rtmpUrl}/${stream.streamKey}` });
        try {
          const pid = origin.process.child.pid!;
          return await coresOf(() => [pid, ...childrenOf(pid).filter((c) => c.command === 'ffmpeg').map((c) => c.pid)]);
        } finally {
          await publisher.stop();
        }
      }),
    );
    results.bare.push(await bareCores([ladder]));
    results.perRendition.push(await bareCores(perRendition(ladder)));
    results.withoutSource.push(await bareCores([planFor('ladder', false)]));
  }
  return {
    origin: summarize(results.origin),
    bare: summarize(results.bare),
    perRendition: summarize(results.perRendition),
    bareWithoutSourceRung: summarize(results.withoutSource),
    renditions: ladder.video.map((v) => `${v.name} (${v.mode})`),
  };
}
