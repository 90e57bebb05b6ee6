// 2. Latency, against the publisher's clock: when its media started is noted by a TCP proxy in
// front of the RTMP port, and a frame with media time t was pushed then + t (ffmpeg -re).
//  - segment latency: how long after the last frame of a segment was pushed the segment appears
//    in the playlist;
//  - glass-to-glass: headless Chromium plays the stream with hls.js (configured like the origin's
//    player) and reads the media time burned into the picture. Several players join one after
//    another, each on a stream already running, and each one's median is a sample. They join at
//    evenly spread points of the 2 s segment grid: a player reloads the playlist once per target
//    duration from its first load, so when it joins decides how late it sees each new segment,
//    and so where it sits (players 16 s apart all joined at the same point, and one server came
//    out half a second behind another by that alone).
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type Page } from 'playwright-core';
import { startTestPattern } from '../lib/processes';
import { getMedia, getText, masterUris, poll } from '../lib/hls-http';
import { ROOT, withNginx, withOrigin } from './lib/bench-env';
import { startTimingProxy } from './lib/timing-proxy';
import { percentile, sleep, summarize, type Summary } from './lib/stats';

const WARMUP_MS = 12_000;
const PLAYERS = 6;
/** A player's first seconds: it starts, and moves towards its target distance from the live edge. */
const PLAYER_SETTLE_MS = 8_000;
const PLAYER_SAMPLE_MS = 8_000;
const PLAYER_MS = PLAYER_SETTLE_MS + PLAYER_SAMPLE_MS;
const SEGMENT_MS = 2_000;
/** When each player joins, after the warm-up: a segment's worth / PLAYERS later in the grid each time. */
const PLAYER_JOINS_MS = Array.from({ length: PLAYERS }, (_, i) => i * (PLAYER_MS + SEGMENT_MS / PLAYERS));

interface Latency {
  /** Every glass-to-glass reading of every player, pooled: what p50 and p95 are taken of. */
  glassSamples: number[];
  segment: number[];
  /** The same, against the segment's EXT-X-PROGRAM-DATE-TIME (the server's clock; nginx-rtmp writes none). */
  programDateTime: number[];
  /** Each player's median glass-to-glass latency. */
  glass: number[];
  /** Each player's median distance behind the live edge, as hls.js reckons it. */
  distance: number[];
  /** Each player's median time from a segment being listed (as this script polls) to the player first seeing it. */
  found: number[];
}

async function servePage(): Promise<{ url: string; close(): Promise<void> }> {
  const bundle = await build({
    entryPoints: [path.join(ROOT, 'scripts', 'bench', 'glass', 'page.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    target: ['es2020'],
    logLevel: 'warning',
  });
  const script = bundle.outputFiles[0]!.text;
  const server = http.createServer((request, response) => {
    if (request.url?.startsWith('/page.js')) {
      response.setHeader('content-type', 'application/javascript');
      response.end(script);
      return;
    }
    response.setHeader('content-type', 'text/html');
    response.end('<!doctype html><body style="margin:0"><video width="1280" height="720" playsinline></video><script src="/page.js"></script></body>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function measure(targetRtmpPort: number, app: string, name: string, playlistOf: () => Promise<string | undefined>, pageUrl: string, hlsUrl: string): Promise<Latency> {
  const proxy = await startTimingProxy(targetRtmpPort, app);
  const publisher = startTestPattern({ url: `${proxy.url}/${name}`, burnClock: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  try {
    const mediaPlaylist = await poll(playlistOf, 20_000);
    if (!mediaPlaylist) throw new Error(`${hlsUrl} never came up`);
    const segment: number[] = [];
    const programDateTime: number[] = [];
    const glass: number[] = [];
    const glassSamples: number[] = [];
    const distance: number[] = [];
    const found: number[] = [];
    /** When this script first saw each segment listed. */
    const listedAt = new Map<number, number>();
    // Media time at which each segment ends: polling starts before the first segment exists, so
    // the first one seen starts at media time 0 and each next one where the previous ended.
    const endOf = new Map<number, number>();
    let player: { page: Page; index: number; samples: number[]; distances: number[] } | undefined;
    const endPlayer = async () => {
      if (!player) return;
      if (player.samples.length > 0) glass.push(summarize(player.samples).median);
      glassSamples.push(...player.samples);
      if (player.distances.length > 0) distance.push(summarize(player.distances).median);
      const seen = await player.page.evaluate(() => (window as unknown as { readFound(): Array<[number, number]> }).readFound());
      const delays = seen.filter(([sequence]) => listedAt.has(sequence)).map(([sequence, at]) => (at - listedAt.get(sequence)!) / 1000);
      // The first load is when the player joined, not when it found a segment.
      if (delays.length > 1) found.push(summarize(delays.slice(1)).median);
      await player.page.close();
      player = undefined;
    };
    const started = Date.now();
    while (Date.now() - started < WARMUP_MS + PLAYER_JOINS_MS.at(-1)! + PLAYER_MS) {
      const playlist = await getMedia(mediaPlaylist);
      const now = Date.now();
      const t0 = proxy.mediaStartedAt();
      for (const s of playlist?.segments ?? []) {
        if (!listedAt.has(s.sequence)) listedAt.set(s.sequence, now);
        if (endOf.has(s.sequence)) continue;
        endOf.set(s.sequence, (endOf.get(s.sequence - 1) ?? 0) + s.duration);
        if (now - started <= WARMUP_MS / 2) continue;
        if (t0 !== undefined) segment.push((now - (t0 + endOf.get(s.sequence)! * 1000)) / 1000);
        if (s.programDateTime) programDateTime.push((now - (Date.parse(s.programDateTime) + s.duration * 1000)) / 1000);
      }
      const sinceWarmup = now - started - WARMUP_MS;
      const index = PLAYER_JOINS_MS.filter((joinMs) => sinceWarmup >= joinMs).length - 1;
      if (index >= 0) {
        const played = sinceWarmup - PLAYER_JOINS_MS[index]!;
        if (player?.index !== index) {
          await endPlayer();
          const page = await browser.newPage();
          await page.goto(`${pageUrl}?src=${encodeURIComponent(hlsUrl)}`);
          player = { page, index, samples: [], distances: [] };
        } else if (played >= PLAYER_SETTLE_MS && played < PLAYER_MS && t0 !== undefined) {
          const { clock, behind } = await player.page.evaluate(() => {
            const page = window as unknown as { readClock(): number | undefined; readDistance(): number | undefined };
            return { clock: page.readClock(), behind: page.readDistance() };
          });
          if (clock !== undefined) player.samples.push((Date.now() - (t0 + clock * 1000)) / 1000);
          if (behind !== undefined) player.distances.push(behind);
        }
      }
      await sleep(100);
    }
    await endPlayer();
    return { glassSamples, segment, programDateTime, glass, distance, found };
  } finally {
    await browser.close();
    await publisher.stop();
    await proxy.stop();
  }
}

export interface LatencySummary {
  /** Glass-to-glass, s: the median and 95th percentile of every reading of every player. */
  glassP50: number;
  glassP95: number;
  segment: Summary;
  programDateTime: Summary;
  glass: Summary;
  distance: Summary;
  found: Summary;
  /** Each player's median glass-to-glass latency, in the order they joined. */
  glassPerPlayer: number[];
}

/** The origin's four ways of serving a stream, each measured, then nginx-rtmp's one. */
export const LATENCY_SETUPS = [
  { name: 'low, passthrough', profile: 'passthrough', latencyMode: 'low' },
  { name: 'low, ladder', profile: 'ladder', latencyMode: 'low' },
  { name: 'standard, passthrough', profile: 'passthrough', latencyMode: 'standard' },
  { name: 'standard, ladder', profile: 'ladder', latencyMode: 'standard' },
] as const;

export type LatencyResult = Record<(typeof LATENCY_SETUPS)[number]['name'] | 'nginx-rtmp', LatencySummary>;

function port(url: string): number {
  return Number(new URL(url.replace(/^rtmp/, 'http')).port);
}

function summarizeLatency(l: Latency): LatencySummary {
  return {
    glassP50: percentile(l.glassSamples, 50),
    glassP95: percentile(l.glassSamples, 95),
    segment: summarize(l.segment),
    programDateTime: summarize(l.programDateTime),
    glass: summarize(l.glass),
    distance: summarize(l.distance),
    found: summarize(l.found),
    glassPerPlayer: l.glass,
  };
}

export async function measureLatency(): Promise<LatencyResult> {
  const page = await servePage();
  try {
    const result: Partial<LatencyResult> = {};
    await withOrigin({}, async (origin) => {
      for (const setup of LATENCY_SETUPS) {
        const stream = await origin.api('POST', '/api/v1/streams', {
          name: `latency ${setup.name}`,
          profile: setup.profile,
          latencyMode: setup.latencyMode,
          reconnectWindowSeconds: 0,
        });
        const master = `${origin.httpUrl}/hls/${stream.playbackId}/master.m3u8`;
        const measured = await measure(
          port(origin.rtmpUrl),
          'live',
          stream.streamKey,
          async () => {
            const text = await getText(master);
            return text === undefined ? undefined : masterUris(master, text)[0];
          },
          page.url,
          master,
        );
        result[setup.name] = summarizeLatency(measured);
        await sleep(2000);
      }
    });
    const anchor = await withNginx(async (nginx) => {
      const playlist = `${nginx.httpUrl}/hls/latency.m3u8`;
      return measure(port(nginx.rtmpUrl), 'live', 'latency', async () => ((await getText(playlist)) ? playlist : undefined), page.url, playlist);
    });
    result['nginx-rtmp'] = summarizeLatency(anchor);
    return result as LatencyResult;
  } finally {
    await page.close();
  }
}
