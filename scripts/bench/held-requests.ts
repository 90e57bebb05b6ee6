// 7. Held requests: 1,000 blocking playlist reloads of one low-latency stream waiting for the same
// part, and how long after the part exists each is answered. The part's existence is marked by a
// probe: one more request for the same part, sent (and so held) before the thousand, which the
// origin answers first, the moment it publishes the part. Each of the thousand is measured from the
// first byte of the probe's answer to the first byte of its own. The clients are bare keep-alive
// sockets that write a request and note when the answer begins, so that the figure is the
// origin's and not an HTTP client's: reading a thousand answers with Node's HTTP client, on the
// same two cores, takes longer than the origin takes to write them. The origin runs as configured
// by default (with its delivery processes), and the first rounds, which V8 compiles, are not counted.
import net from 'node:net';
import { parseMediaPlaylist } from '../lib/media-playlist';
import { startTestPattern } from '../lib/processes';
import { getText, masterUris, poll } from '../lib/hls-http';
import { withOrigin } from './lib/bench-env';
import { percentile, sleep } from './lib/stats';

const CLIENTS = 1000;
const ROUNDS = 10;
/** Rounds first run and not counted: V8 compiles the path that answers a thousand at once as it runs it. */
const WARMUP_ROUNDS = 3;

export interface HeldRequestsResult {
  clients: number;
  /** Rounds in which every request was sent before the part existed (the others are not counted). */
  rounds: number;
  skippedRounds: number;
  /** ms from the part's publication (the probe's answer) to each held request's answer, pooled over the rounds. */
  p50: number;
  p99: number;
  max: number;
  /** Answers that were not 200. */
  failures: number;
}

/** One keep-alive connection that sends a GET and notes when its answer starts and ends. */
class Client {
  private readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  private current: { firstByteAt?: number; resolve: (answer: { status: number; at: number }) => void } | undefined;

  private constructor(
    socket: net.Socket,
    private readonly host: string,
  ) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (data) => this.onData(data));
    socket.on('error', () => undefined);
  }

  static connect(url: URL): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => resolve(new Client(socket, url.host)));
      socket.once('error', reject);
    });
  }

  /** Resolves with the status and when the answer's first byte arrived (performance.now()), once the whole answer is in. */
  get(pathAndQuery: string): { sent: Promise<void>; answer: Promise<{ status: number; at: number }> } {
    const answer = new Promise<{ status: number; at: number }>((resolve) => (this.current = { resolve }));
    const sent = new Promise<void>((resolve) => this.socket.write(`GET ${pathAndQuery} HTTP/1.1\r\nHost: ${this.host}\r\n\r\n`, () => resolve()));
    return { sent, answer };
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(data: Buffer): void {
    const current = this.current;
    if (!current) return;
    current.firstByteAt ??= performance.now();
    this.received = Buffer.concat([this.received, data]);
    const headerEnd = this.received.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const head = this.received.subarray(0, headerEnd).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (this.received.length < headerEnd + 4 + length) return;
    this.received = this.received.subarray(headerEnd + 4 + length);
    this.current = undefined;
    current.resolve({ status: Number(head.slice(9, 12)), at: current.firstByteAt });
  }
}

export async function measureHeldRequests(): Promise<HeldRequestsResult> {
  return withOrigin({}, async (origin) => {
    const stream = await origin.api('POST', '/api/v1/streams', { name: 'held requests', profile: 'passthrough' });
    const publisher = startTestPattern({ url: `${origin.rtmpUrl}/${stream.streamKey}`, width: 640, height: 360 });
    const clients: Client[] = [];
    try {
      const master = `${origin.httpUrl}/hls/${stream.playbackId}/master.m3u8`;
      const media = await poll(async () => {
        const text = await getText(master);
        return text === undefined ? undefined : masterUris(master, text)[0];
      }, 20_000);
      if (!media) throw new Error('the stream never came up');
      const mediaUrl = new URL(media);
      for (let i = 0; i <= CLIENTS; i++) clients.push(await Client.connect(mediaUrl));
      await sleep(4000);
      const delays: number[] = [];
      let failures = 0;
      let skippedRounds = 0;
      for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
        const text = await getText(media);
        const hint = /seg_(\d+)\.(\d+)\.m4s/.exec(parseMediaPlaylist(text!).hint ?? '');
        if (!hint) throw new Error('no preload hint');
        // The part after the hinted one: every request is waiting before it exists.
        const target = `${mediaUrl.pathname}?_HLS_msn=${hint[1]}&_HLS_part=${Number(hint[2]) + 1}`;
        const [probeClient, ...rest] = clients;
        const probe = probeClient!.get(target);
        await probe.sent;
        const requests = rest.map((client) => client.get(target));
        await Promise.all(requests.map((r) => r.sent));
        const allSentAt = performance.now();
        const published = await probe.answer;
        const answers = await Promise.all(requests.map((r) => r.answer));
        if (round < 0) {
          // warming up
        } else if (published.at < allSentAt) {
          skippedRounds += 1;
        } else {
          for (const answer of answers) {
            if (answer.status === 200) delays.push(answer.at - published.at);
            else failures += 1;
          }
        }
        await sleep(300);
      }
      const sorted = delays.sort((a, b) => a - b);
      return {
        clients: CLIENTS,
        rounds: ROUNDS - skippedRounds,
        skippedRounds,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.at(-1) ?? Number.NaN,
        failures,
      };
    } finally {
      for (const client of clients) client.close();
      await publisher.stop();
    }
  });
}
