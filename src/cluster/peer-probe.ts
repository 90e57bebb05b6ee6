import net from 'node:net';

/** A refusal comes back within a round trip; a node that does not answer at all is not taken for dead. */
const PROBE_TIMEOUT_MS = 500;

/**
 * Whether a node's process is certainly gone: its host answers, but nothing listens on its port
 * (connection refused). A timeout or any other error proves nothing (a partition, a dead host):
 * then the lease has to lapse.
 */
export function refusesConnections(url: string): Promise<boolean> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.hostname, port });
    const done = (refused: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(refused);
    };
    const timer = setTimeout(() => done(false), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done(false));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED'));
  });
}
