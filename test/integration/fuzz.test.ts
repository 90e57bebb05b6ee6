import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { chunkMessage, commandMessage, encodeAmf0, publishAnswer } from '../../scripts/lib/rtmp-client';
import { createStream, useTestOrigin } from '../support/origin';
import { ffmpegProcessesMentioning } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(300_000);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Reproducible randomness: the same seed throws the same inputs. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (max: number) => Math.floor(next() * max),
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(next() * 256))),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
  };
}

const HANDSHAKE = Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]);
const C2 = Buffer.alloc(1536);

/** A well-formed start of a publish, to mutate. */
function publishSequence(key: string): Buffer {
  return Buffer.concat([
    HANDSHAKE,
    C2,
    commandMessage('connect', 1, { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: 'rtmp://127.0.0.1/live' }),
    commandMessage('releaseStream', 2, null, key),
    commandMessage('FCPublish', 3, null, key),
    commandMessage('createStream', 4, null),
    commandMessage('publish', 5, null, key, 'live'),
    chunkMessage({
      csid: 6,
      type: 18,
      streamId: 1,
      payload: Buffer.concat([encodeAmf0('@setDataFrame'), encodeAmf0('onMetaData'), encodeAmf0({ width: 1280, height: 720, videocodecid: 7, audiocodecid: 10 })]),
    }),
    chunkMessage({ csid: 5, type: 9, streamId: 1, payload: Buffer.from([0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f]) }),
    chunkMessage({ csid: 4, type: 8, streamId: 1, payload: Buffer.from([0xaf, 0x00, 0x11, 0x90]) }),
    chunkMessage({ csid: 5, type: 9, streamId: 1, payload: Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), Buffer.alloc(300, 0x41)]) }),
  ]);
}

type Case = (r: ReturnType<typeof prng>, validKey: string) => Buffer;

const CASES: Record<string, Case> = {
  'random bytes': (r) => r.bytes(1 + r.int(20_000)),
  'handshake then random chunks': (r) => Buffer.concat([HANDSHAKE, C2, r.bytes(r.int(8000))]),
  'random AMF commands': (r) =>
    Buffer.concat([
      HANDSHAKE,
      C2,
      ...Array.from({ length: 1 + r.int(6) }, () => {
        const name = r.pick(['connect', 'publish', 'play', 'createStream', 'deleteStream', 'FCUnpublish', 'call', '_result', 'x'.repeat(r.int(300))]);
        const args = [r.pick([null, 1, 'str', { app: r.pick(['live', '', '../', '\u0000']), tcUrl: r.pick(['rtmp://x/live', 'not a url', '', 'http://[::1']) }, true])];
        const message = commandMessage(name, r.int(10), ...args);
        return r.int(3) === 0 ? message.subarray(0, r.int(message.length)) : message;
      }),
    ]),
  'mutated publish': (r, key) => {
    const bytes = publishSequence(r.int(4) === 0 ? key : `sk_${r.bytes(16).toString('hex')}`);
    for (let flips = 1 + r.int(20); flips > 0; flips--) bytes[3073 + r.int(bytes.length - 3073)] = r.int(256);
    return r.int(4) === 0 ? bytes.subarray(0, r.int(bytes.length)) : bytes;
  },
  'oversized headers': (r) =>
    Buffer.concat([
      HANDSHAKE,
      C2,
      chunkMessage({ csid: 2 + r.int(60), type: r.pick([1, 2, 3, 4, 5, 6, 8, 9, 18, 20, 22]), streamId: r.int(5), payload: r.bytes(r.int(200)) }).subarray(0, 12),
      r.bytes(r.int(500)),
    ]),
};

function throwAt(port: number, bytes: Buffer, localAddress: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(bytes);
      setTimeout(() => socket.destroy(), 50 + (bytes.length % 150));
    });
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

/** After a few collections with pauses between them (finalizers release Buffers' memory late). */
async function memory(): Promise<number> {
  for (let i = 0; i < 5; i++) {
    gc();
    await sleep(200);
  }
  const { heapUsed, external } = process.memoryUsage();
  if (process.env.FUZZ_MEMORY) console.log({ heapMiB: heapUsed / 1048576, externalMiB: external / 1048576 });
  return heapUsed + external;
}

describe('RTMP fuzzing', () => {
  // Logs at error level only: the test harness keeps every log line in memory, which is not the server's memory.
  const env = useTestOrigin({
    overrides: {
      logLevel: 'error',
      ingest: { maxConnectionsPerAddress: 1000, keyGuessing: { windowSeconds: 600, slowAfter: 1e6, blockAfter: 1e6, blockSeconds: 1 }, firstMediaTimeoutSeconds: 2 },
    },
  });

  test('thousands of random and mutated handshakes, chunk streams and AMF commands: still up and serving, memory back to baseline', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'Fuzzed');
    await origin.db('streams').where({ id: stream.id }).update({ reconnect_window_seconds: 0 });
    // warm-up, so that lazily built things are in the baseline
    await publishAnswer(origin.rtmpPort, stream.streamKey);
    await sleep(500);
    const baseline = await memory();

    const r = prng(20261121);
    const names = Object.keys(CASES);
    const counts = Object.fromEntries(names.map((name) => [name, 0]));
    const total = 3000;
    const concurrency = 48;
    let started = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        while (started < total) {
          started += 1;
          const name = names[started % names.length]!;
          counts[name] = (counts[name] ?? 0) + 1;
          await throwAt(origin.rtmpPort, CASES[name]!(r, stream.streamKey), `127.0.${1 + (worker % 8)}.${1 + (started % 200)}`);
        }
      }),
    );
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(total);

    // Sessions opened with the valid key by mutated publishes end by themselves (no usable media).
    await waitFor(() => origin.registry.list().length === 0, { what: 'fuzzed sessions to end', timeoutMs: 60_000 });
    await waitFor(() => ffmpegProcessesMentioning(origin.dir).length === 0, { what: 'no ffmpeg left', timeoutMs: 20_000 });
    await waitFor(async () => (await origin.metrics.registry.getSingleMetricAsString('origin_rtmp_connections')).endsWith(' 0'), {
      what: 'all connections closed',
      timeoutMs: 10_000,
    });

    expect((await origin.api('GET', '/healthz', { token: null })).status).toBe(200);
    expect(await publishAnswer(origin.rtmpPort, stream.streamKey)).toMatchObject({ code: 'NetStream.Publish.Start' });
    await waitFor(() => origin.registry.list().length === 0, { what: 'the check publish to end', timeoutMs: 30_000 });

    const after = await memory();
    if (process.env.FUZZ_MEMORY) console.log({ baselineMiB: baseline / 1048576, afterMiB: after / 1048576, logLines: origin.logs.length });
    // Garbage-collected heap plus Buffers: what the fuzz allocated is gone, within a few MiB of noise.
    expect((after - baseline) / 1024 / 1024).toBeLessThan(16);
  });
});
