// 3. Transcoding cost: CPU of one 720p30 live stream through the default ladder in the origin
// (the Node process and its ffmpeg), next to ffmpeg alone making the same fragments (its own fMP4
// HLS muxer: the same encodes, the source and the audio copied, 2 s segments of part-long
// fragments on disk, old ones deleted), the origin's own ffmpeg command run bare (fed the same FLV
// through a pipe, its output thrown away), the same ladder as one ffmpeg per rendition, and the
// ladder without the source-copy rendition (every rung encoded). The publishers' own CPU is never
// counted. ffmpeg alone runs beside the origin and is measured in the same window, as the origin's
// Node process and its ffmpeg are: this guest's speed drifts by a tenth from one minute to the
// next, more than the margin the comparison is about. It runs twice: fed the FLV through a pipe,
// and taking the publisher's RTMP itself, as the origin does (receiving RTMP is part of the job).
// The origin is measured twice per run: in its first 40 s, while V8 still compiles the media path
// (one stream calls it too rarely for quick tiering), and once that is over, from two minutes in,
// which is what a live stream costs for the rest of its life. The second window is the headline.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { buildFfmpegArgs, toArgv } from '../../src/transcode/ffmpeg-args';
import { planLadder, type LadderPlan } from '../../src/transcode/ladder';
import { resolveProfile } from '../../src/transcode/profiles';
import { testPatternArgs } from '../lib/test-pattern';
import { freePort } from '../lib/ports';
import { childrenOf, cpuSeconds } from '../lib/proc';
import { startTestPattern } from '../lib/processes';
import { ROOT, workspace, withOrigin } from './lib/bench-env';
import { sleep, summarize, type Summary } from './lib/stats';

const WARMUP_MS = 10_000;
const MEASURE_MS = 30_000;
/** When the origin's steady window starts, counted from the publisher's start. */
const STEADY_FROM_MS = 120_000;
/** How long ffmpeg alone taking RTMP runs before its window (its encoders settle within seconds). */
const RTMP_WARMUP_MS = 20_000;

/** The source every variant is fed: what the test publisher sends. */
const SOURCE = {
  video: { codec: 'h264' as const, width: 1280, height: 720, frameRate: 30, codecString: 'avc1.42c01f' },
  audio: { codec: 'aac' as const, codecString: 'mp4a.40.2', channels: 2, sampleRate: 48000 },
};

/** CPU cores used by each group of processes over the same measuring window, after a wait. */
async function coresOf<K extends string>(groups: Record<K, () => number[]>, waitMs = WARMUP_MS): Promise<Record<K, number>> {
  await sleep(waitMs);
  const names = Object.keys(groups) as K[];
  const sums = () => names.map((name) => groups[name]().reduce((total, pid) => total + cpuSeconds(pid), 0));
  const before = sums();
  const start = Date.now();
  await sleep(MEASURE_MS);
  const after = sums();
  const seconds = (Date.now() - start) / 1000;
  return Object.fromEntries(names.map((name, i) => [name, (after[i]! - before[i]!) / seconds])) as Record<K, number>;
}

/**
 * What ffmpeg alone would run to make the plan's renditions as the origin serves them: the
 * origin's encoding arguments, the copied source and audio added as copies, and ffmpeg's own HLS
 * muxer writing fMP4 segments of the same length into `dir`, each of fragments of the origin's part
 * length, deleting those out of the window. Its input is FLV on stdin, or with `rtmpUrl` the RTMP
 * publish it listens for there.
 */
export function ffmpegAloneArgv(plan: LadderPlan, dir: string, hls: { preset: string; segmentSeconds: number; partSeconds: number; listSize: number }, rtmpUrl?: string): string[] {
  const encoding = buildFfmpegArgs({ plan, preset: hls.preset, segmentSeconds: hls.segmentSeconds, input: { hasVideo: true, hasAudio: true, format: 'flv' }, label: dir });
  if (!encoding) throw new Error('this plan has nothing for ffmpeg to encode');
  const output = encoding.args.outputs[0]!.options;
  const options = output.slice(0, output.indexOf('-metadata'));
  const encoded = plan.video.filter((v) => v.mode === 'encode').length;
  const copies = plan.video.filter((v) => v.mode === 'copy');
  copies.forEach((_, i) => options.push('-map', '0:v:0', `-c:v:${encoded + i}`, 'copy'));
  const audioCopied = plan.audio.some((a) => a.mode === 'copy');
  if (audioCopied) options.push('-map', '0:a:0', '-c:a', 'copy');
  const videoCount = encoded + copies.length;
  const audioCount = audioCopied ? 1 : encoding.renditions.length - encoded;
  const group = audioCount > 0 ? ',agroup:audio' : '';
  const streams = [...Array.from({ length: videoCount }, (_, i) => `v:${i}${group}`), ...Array.from({ length: audioCount }, (_, i) => `a:${i}${group}`)];
  // prettier-ignore
  options.push(
    '-f', 'hls', '-hls_time', String(hls.segmentSeconds), '-hls_list_size', String(hls.listSize), '-hls_segment_type', 'fmp4',
    '-hls_segment_options', `frag_duration=${Math.round(hls.partSeconds * 1_000_000)}`,
    '-hls_flags', 'delete_segments+independent_segments', '-master_pl_name', 'master.m3u8',
    '-var_stream_map', streams.join(' '), '-hls_segment_filename', path.join(dir, '%v', 'seg_%d.m4s'),
  );
  const inputs = rtmpUrl === undefined ? encoding.args.inputs : encoding.args.inputs.map((input) => ({ options: [...input.options, '-listen', '1'], source: rtmpUrl }));
  return toArgv({ inputs, outputs: [{ options, target: path.join(dir, '%v', 'index.m3u8') }] });
}

/** ffmpegAloneArgv with the default configuration's preset and HLS settings. */
function defaultAloneArgv(plan: LadderPlan, dir: string, rtmpUrl?: string): string[] {
  const config = loadConfig({ env: {}, configDir: path.join(ROOT, 'config'), cwd: dir });
  return ffmpegAloneArgv(plan, dir, { preset: config.transcode.preset, ...config.hls }, rtmpUrl);
}

/** ffmpeg alone making the plan's renditions as HLS files, fed like the origin, until stopped. */
function startAlone(plan: LadderPlan): Fed {
  const space = workspace('alone');
  return feed([defaultAloneArgv(plan, space.dir)], space);
}

/**
 * ffmpeg alone making the plan's renditions as HLS files from the RTMP publish it listens for, the
 * test publisher pushing to it as to the origin, until stopped.
 */
async function startAloneReceiving(plan: LadderPlan): Promise<Fed> {
  const space = workspace('alone-rtmp');
  const port = await freePort();
  const url = `rtmp://127.0.0.1:${port}/live/bench`;
  const transcoder = spawn('ffmpeg', defaultAloneArgv(plan, space.dir, url), { stdio: 'ignore' });
  let publisher: ChildProcess | undefined;
  const stop = async () => {
    publisher?.kill('SIGKILL');
    transcoder.kill('SIGKILL');
    await sleep(500);
    space.cleanup();
  };
  try {
    // A connection before ffmpeg listens is refused, and one to see whether it listens would be
    // taken for the publisher: the kernel's socket table says when it does.
    const deadline = Date.now() + 30_000;
    while (!listensOn(port)) {
      if (transcoder.exitCode !== null || Date.now() > deadline) throw new Error(`ffmpeg alone did not listen for RTMP on port ${port}`);
      await sleep(100);
    }
    publisher = spawn('ffmpeg', testPatternArgs({ url }), { stdio: 'ignore' });
    // Its first playlist says that the publisher got through and segments are being made.
    while (!fs.existsSync(path.join(space.dir, '0', 'index.m3u8'))) {
      if (transcoder.exitCode !== null || publisher.exitCode !== null || Date.now() > deadline) throw new Error('ffmpeg alone taking RTMP made no segment');
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { pids: [transcoder.pid!], stop };
}

/** Whether a TCP socket listens on this loopback port (/proc/net/tcp: state 0A is LISTEN). */
function listensOn(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1]?.endsWith(`:${hex}`) && fields[3] === '0A';
    });
}

/** ffmpeg with our arguments for `plan`, its stdin fed by a test publisher writing FLV to a pipe. */
async function bareCores(plans: LadderPlan[]): Promise<number> {
  const space = workspace('bare');
  const config = loadConfig({ env: {}, configDir: path.join(ROOT, 'config'), cwd: space.dir });
  const argvs = plans.map((plan) => {
    const encoding = buildFfmpegArgs({
      plan,
      preset: config.transcode.preset,
      segmentSeconds: config.hls.segmentSeconds,
      input: { hasVideo: true, hasAudio: true, format: 'flv' },
      label: space.dir,
    });
    if (!encoding) throw new Error('this plan has nothing for ffmpeg to encode');
    return toArgv(encoding.args);
  });
  const fed = feed(argvs, space);
  try {
    return (await coresOf({ ffmpeg: () => fed.pids })).ffmpeg;
  } finally {
    await fed.stop();
  }
}

interface Fed {
  /** The ffmpegs' process ids. */
  pids: number[];
  stop(): Promise<void>;
}

/** Runs each ffmpeg command line fed by its own test publisher (FLV through a pipe). */
function feed(argvs: string[][], space: ReturnType<typeof workspace>): Fed {
  const processes = argvs.map((argv) => {
    const transcoder = spawn('ffmpeg', argv, { stdio: ['pipe', 'ignore', 'ignore'] });
    const publisher = spawn('ffmpeg', testPatternArgs({ url: '', toStdout: true }), { stdio: ['ignore', 'pipe', 'ignore'] });
    publisher.stdout.pipe(transcoder.stdin);
    transcoder.stdin.on('error', () => undefined);
    return { transcoder, publisher };
  });
  return {
    pids: processes.map((p) => p.transcoder.pid!),
    stop: async () => {
      for (const { transcoder, publisher } of processes) {
        publisher.kill('SIGKILL');
        transcoder.kill('SIGKILL');
      }
      await sleep(500);
      space.cleanup();
    },
  };
}

function planFor(profileName: string, sourceRung?: boolean): LadderPlan {
  const config = loadConfig({ env: {}, configDir: path.join(ROOT, 'config'), cwd: ROOT });
  const profile = resolveProfile(config, profileName);
  return planLadder(SOURCE, { profile: { ...profile, ...(sourceRung !== undefined && { sourceRung }) }, audioBitrateKbps: config.transcode.audioBitrateKbps });
}

/** The ladder's encoded rungs as one process each, each decoding the source on its own; the first also reads the audio. */
function perRendition(plan: LadderPlan): LadderPlan[] {
  return plan.video
    .filter((video) => video.mode === 'encode')
    .map((video, i) => {
      const { poster, ...rest } = plan;
      return { ...rest, video: [video], audio: i === 0 ? plan.audio : [], ...(i === 0 && poster && { poster }) };
    });
}

export interface TranscodeCostResult {
  /** From two minutes in. */
  origin: Summary;
  /** The origin's Node process alone, and its ffmpeg, in the same window as `origin`. */
  originNode: Summary;
  originFfmpeg: Summary;
  /** The same in the stream's first 40 s (from 10 s in), while V8 is still compiling. */
  firstOrigin: Summary;
  firstOriginNode: Summary;
  bare: Summary;
  /** origin / bare, each run measured back to back. */
  ratioPerRun: Summary;
  /** ffmpeg alone making the same fragments as HLS files, beside the origin in its window; the origin / it. */
  alone: Summary;
  aloneRatio: Summary;
  /** The same, taking the publisher's RTMP itself, in a window of its own after that one; the origin / it there. */
  aloneReceiving: Summary;
  aloneReceivingRatio: Summary;
  /** origin / its own ffmpeg in the same window: what the origin adds, free of drift between runs. */
  ownShare: Summary;
  perRendition: Summary;
  bareWithoutSourceRung: Summary;
  renditions: string[];
}

export async function measureTranscodeCost(runs: number): Promise<TranscodeCostResult> {
  const results = {
    origin: [] as number[],
    node: [] as number[],
    ffmpeg: [] as number[],
    firstOrigin: [] as number[],
    firstNode: [] as number[],
    bare: [] as number[],
    alone: [] as number[],
    receivingOrigin: [] as number[],
    aloneReceiving: [] as number[],
    perRendition: [] as number[],
    withoutSource: [] as number[],
  };
  const ladder = planFor('ladder');
  for (let run = 0; run < runs; run++) {
    const measured = await withOrigin({}, async (origin) => {
      const stream = await origin.api('POST', '/api/v1/streams', { name: 'cost', reconnectWindowSeconds: 0 });
      const publisher = startTestPattern({ url: `${origin.rtmpUrl}/${stream.streamKey}` });
      try {
        const pid = origin.process.child.pid!;
        // The origin's Node processes: the origin and its delivery processes, if it runs any.
        const groups = {
          node: () => [
            pid,
            ...childrenOf(pid)
              .filter((c) => c.command === 'node')
              .map((c) => c.pid),
          ],
          ffmpeg: () =>
            childrenOf(pid)
              .filter((c) => c.command === 'ffmpeg')
              .map((c) => c.pid),
        };
        const first = await coresOf(groups);
        const alone = startAlone(ladder);
        let steady;
        try {
          steady = await coresOf({ ...groups, alone: () => alone.pids }, STEADY_FROM_MS - WARMUP_MS - MEASURE_MS);
        } finally {
          await alone.stop();
        }
        const receiving = await startAloneReceiving(ladder);
        try {
          const received = await coresOf({ ...groups, alone: () => receiving.pids }, RTMP_WARMUP_MS);
          return { first, steady, received };
        } finally {
          await receiving.stop();
        }
      } finally {
        await publisher.stop();
      }
    });
    results.node.push(measured.steady.node);
    results.ffmpeg.push(measured.steady.ffmpeg);
    results.origin.push(measured.steady.node + measured.steady.ffmpeg);
    results.firstNode.push(measured.first.node);
    results.firstOrigin.push(measured.first.node + measured.first.ffmpeg);
    results.alone.push(measured.steady.alone);
    results.receivingOrigin.push(measured.received.node + measured.received.ffmpeg);
    results.aloneReceiving.push(measured.received.alone);
    results.bare.push(await bareCores([ladder]));
    results.perRendition.push(await bareCores(perRendition(ladder)));
    results.withoutSource.push(await bareCores([planFor('ladder', false)]));
  }
  return {
    origin: summarize(results.origin),
    originNode: summarize(results.node),
    originFfmpeg: summarize(results.ffmpeg),
    firstOrigin: summarize(results.firstOrigin),
    firstOriginNode: summarize(results.firstNode),
    bare: summarize(results.bare),
    ratioPerRun: summarize(results.origin.map((cores, i) => cores / results.bare[i]!)),
    alone: summarize(results.alone),
    aloneRatio: summarize(results.origin.map((cores, i) => cores / results.alone[i]!)),
    aloneReceiving: summarize(results.aloneReceiving),
    aloneReceivingRatio: summarize(results.receivingOrigin.map((cores, i) => cores / results.aloneReceiving[i]!)),
    ownShare: summarize(results.origin.map((cores, i) => cores / results.ffmpeg[i]!)),
    perRendition: summarize(results.perRendition),
    bareWithoutSourceRung: summarize(results.withoutSource),
    renditions: ladder.video.map((v) => `${v.name} (${v.mode})`),
  };
}
