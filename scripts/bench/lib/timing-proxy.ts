// A TCP proxy in front of an RTMP server that notes when a publisher's media begins: its first
// bytes past the handshake and commands. The same for the origin and for nginx, so that latency is
// measured against the publisher's clock on both.
import net from 'node:net';

/** Handshake (C0+C1+C2: 3073 bytes) and the connect/createStream/publish commands fit well below this. */
const SETUP_BYTES = 6000;

export interface TimingProxy {
  url: string;
  /** When the first publisher connection carried media, ms since the epoch. */
  mediaStartedAt(): number | undefined;
  stop(): Promise<void>;
}

export async function startTimingProxy(targetPort: number, app = 'live'): Promise<TimingProxy> {
  let startedAt: number | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    let seen = 0;
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      seen += chunk.length;
      if (startedAt === undefined && seen > SETUP_BYTES) startedAt = Date.now();
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        b.destroy();
        sockets.delete(a);
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `rtmp://127.0.0.1:${port}/${app}`,
    mediaStartedAt: () => startedAt,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
