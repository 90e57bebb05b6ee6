import net from 'node:net';
import { ReadRounds } from '../../src/ingest/read-rounds';
import { Ticker } from '../../src/ticker';

/**
 * A client writes a small numbered message every 2 ms (an encoder writes ~110 a second) for
 * `durationMs`; the server side counts its 'data' events and how late each message was read, and
 * how late the rounds' timer ran at worst (a busy machine delays it, not the rounds).
 */
async function readsOf(intervalMs: number, mayWait = true, durationMs = 600): Promise<{ reads: number; messages: number[]; worstDelayMs: number; worstTimerLateMs: number }> {
  const ticker = new Ticker(intervalMs);
  let worstTimerLateMs = 0;
  const offTimer = intervalMs > 0 ? ticker.every((lateMs) => (worstTimerLateMs = Math.max(worstTimerLateMs, lateMs))) : () => {};
  const rounds = new ReadRounds(ticker);
  const received: Buffer[] = [];
  let reads = 0;
  let worstDelayMs = 0;
  let serverSide: net.Socket | undefined;
  const server = net.createServer((socket) => {
    serverSide = socket;
    rounds.add(socket, () => mayWait);
    socket.on('data', (data: Buffer) => {
      reads += 1;
      received.push(data);
      // Each message carries its send time: the oldest in this read is the latest read.
      for (let at = 0; at + 12 <= data.length; at += 12) worstDelayMs = Math.max(worstDelayMs, performance.now() - data.readDoubleBE(at + 4));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  client.setNoDelay(true);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  let sequence = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const writer = setInterval(() => {
      const message = Buffer.alloc(12);
      message.writeUInt32BE(sequence++, 0);
      message.writeDoubleBE(performance.now(), 4);
      client.write(message);
      if (performance.now() - started >= durationMs) {
        clearInterval(writer);
        resolve();
      }
    }, 2);
  });
  const total = sequence * 12;
  const deadline = Date.now() + 2000;
  while (received.reduce((sum, chunk) => sum + chunk.length, 0) < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  offTimer();
  client.destroy();
  serverSide?.destroy();
  await new Promise((resolve) => server.close(resolve));
  const all = Buffer.concat(received);
  const messages: number[] = [];
  for (let at = 0; at + 12 <= all.length; at += 12) messages.push(all.readUInt32BE(at));
  expect(messages.length).toBe(sequence);
  return { reads, messages, worstDelayMs, worstTimerLateMs };
}

describe('ReadRounds: publisher sockets read in rounds', () => {
  test('a socket is read once per round, not once per message, in order, and no message waits much over a round', async () => {
    const { reads, messages, worstDelayMs, worstTimerLateMs } = await readsOf(50);
    expect(messages).toEqual(messages.map((_, i) => i));
    // ~12 rounds in 600 ms and one read each: a paused socket reads nothing more until the next
    // round. The writer sends up to 300 messages; on a loaded machine its timer fires less often,
    // so only enough messages for the bound to mean something are required.
    const readBound = 600 / 50 + 4;
    expect(messages.length).toBeGreaterThan(2 * readBound);
    expect(reads).toBeLessThanOrEqual(readBound);
    // A round, plus however late the machine ran the rounds' timer.
    expect(worstDelayMs).toBeLessThan(50 + worstTimerLateMs + 40);
  });

  test('a socket that may not wait (near a keyframe) is read as messages come', async () => {
    const { reads, messages, worstDelayMs } = await readsOf(50, false);
    expect(reads).toBeGreaterThan(messages.length / 2);
    expect(worstDelayMs).toBeLessThan(40);
  });

  test('with an interval of 0 every message is read as it comes', async () => {
    const { reads, messages, worstDelayMs } = await readsOf(0);
    expect(reads).toBeGreaterThan(messages.length / 2);
    expect(worstDelayMs).toBeLessThan(40);
  });
});
