// 7. Held requests: 1,000 blocking playlist reloads of one low-latency stream waiting for the same
// part, and how long after the part exists each is answered. The part's existence is marked by a
// probe: one more request for the same part, sent (and so held) before the thousand, which the
// origin answers first, the moment it publishes the part. Each of the thousand is measured from
// the probe's answer to its own last byte, in this process, so the figure also carries the client's
// own work of reading a thousand answers on the same two cores.
import http from 'node:http';
import { parseMediaPlaylist } from '../lib/media-playlist';
import { startTestPattern } from '../lib/processes';
import { getText, masterUris, poll } from '../lib/hls-http';
import { withOrigin } from './lib/bench-env';
import { percentile, sleep } from './lib/stats';

const CLIENTS = 1000;
const ROUNDS = 10;

export interface HeldRequestsResult {
  clients: number;
  rounds: number;
  /** ms from the part's publication (the probe's answer) to each held request's answer, pooled over the rounds. */
  p50: number;
  p99: number;
  max: number;
  /** Answers that were not 200. */
  failures: number;
}

/** The time the whole answer to `url` has arrived (performance.now()), with its status. */
function timedGet(url: string, agent: http.Agent): Promise<{ status: number; at: number }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, at: performance.now() }));
      })
      .on('error', reject);
  });
}

export async function measureHeldRequests(): Promise<HeldRequestsResult> {
  return withOrigin({ HTTP_DELIVERY_PROCESSES: '0' }, async (origin) => {
    const stream = await origin.api('POST', '/api/v1/streams', { name: 'held requests', profile: 'passthrough' });
    const publisher = startTestPattern({ url: `${origin.rtmpUrl}/${stream.streamKey}`, width: 640, height: 360 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS + 1 });
    try {
      const master = `${origin.httpUrl}/hls/${stream.playbackId}/master.m3u8`;
      const media = await poll(async () => {
        const text = await getText(master);
        return text === undefined ? undefined : masterUris(master, text)[0];
      }, 20_000);
      if (!media) throw new Error('the stream never came up');
      await sleep(4000);
      const delays: number[] = [];
      let failures = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const text = await getText(media);
        const hint = /seg_(\d+)\.(\d+)\.m4s/.exec(parseMediaPlaylist(text!).hint ?? '');
        if (!hint) throw new Error('no preload hint');
        // The part after the hinted one: every request is waiting before it exists.
        const [msn, part] = [Number(hint[1]), Number(hint[2]) + 1];
        const url = `${media}?_HLS_msn=${msn}&_HLS_part=${part}`;
        const probe = timedGet(url, agent);
        await sleep(20);
        const answers = await Promise.all(Array.from({ length: CLIENTS }, () => timedGet(url, agent)));
        const published = (await probe).at;
        for (const answer of answers) {
          if (answer.status === 200) delays.push(answer.at - published);
          else failures += 1;
        }
        await sleep(300);
      }
      const sorted = delays.sort((a, b) => a - b);
      return { clients: CLIENTS, rounds: ROUNDS, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN, failures };
    } finally {
      agent.destroy();
      await publisher.stop();
    }
  });
}
