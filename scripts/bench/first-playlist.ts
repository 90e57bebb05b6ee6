// 1. Time to first playlist: from the publisher starting to a master playlist and a first segment
// of every rendition fetchable over HTTP. The origin with the passthrough and ladder profiles, and
// nginx-rtmp (one rendition: its stream playlist) in the same run.
import { startTestPattern } from '../lib/processes';
import { getMedia, getText, masterUris, poll } from '../lib/hls-http';
import { withNginx, withOrigin } from './lib/bench-env';
import { sleep, summarize, type Summary } from './lib/stats';

const TIMEOUT_MS = 20_000;

/** Seconds from spawning the publisher until every playlist has a segment that can be fetched. */
async function firstPlaylist(masterUrl: string, publishUrl: string, isMaster: boolean): Promise<number | undefined> {
  const started = Date.now();
  const publisher = startTestPattern({ url: publishUrl, seconds: 25 });
  try {
    const ready = await poll(async () => {
      const text = await getText(masterUrl);
      if (text === undefined) return undefined;
      const playlists = isMaster ? masterUris(masterUrl, text) : [masterUrl];
      for (const url of playlists) {
        const playlist = await getMedia(url);
        const first = playlist?.segments[0];
        if (!first) return undefined;
        const segment = await fetch(new URL(first.uri, url));
        await segment.arrayBuffer();
        if (!segment.ok) return undefined;
      }
      return Date.now();
    }, TIMEOUT_MS);
    return ready === undefined ? undefined : (ready - started) / 1000;
  } finally {
    await publisher.stop();
  }
}

export interface FirstPlaylistResult {
  passthrough: Summary;
  ladder: Summary;
  nginx: Summary;
}

export async function measureFirstPlaylist(runs: number): Promise<FirstPlaylistResult> {
  const ours: Record<'passthrough' | 'ladder', number[]> = { passthrough: [], ladder: [] };
  await withOrigin({}, async (origin) => {
    for (let run = 0; run < runs; run++) {
      for (const profile of ['passthrough', 'ladder'] as const) {
        const stream = await origin.api('POST', '/api/v1/streams', { name: `first ${profile} ${run}`, profile, reconnectWindowSeconds: 0 });
        const seconds = await firstPlaylist(`${origin.httpUrl}/hls/${stream.playbackId}/master.m3u8`, `${origin.rtmpUrl}/${stream.streamKey}`, true);
        if (seconds !== undefined) ours[profile].push(seconds);
        await sleep(1500);
      }
    }
  });
  const nginx: number[] = [];
  await withNginx(async (server) => {
    for (let run = 0; run < runs; run++) {
      const name = `first${run}`;
      const seconds = await firstPlaylist(`${server.httpUrl}/hls/${name}.m3u8`, `${server.rtmpUrl}/${name}`, false);
      if (seconds !== undefined) nginx.push(seconds);
      await sleep(1500);
    }
  });
  return { passthrough: summarize(ours.passthrough), ladder: summarize(ours.ladder), nginx: summarize(nginx) };
}
