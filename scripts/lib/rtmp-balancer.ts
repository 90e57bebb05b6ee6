import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

const repoRoot = path.resolve(__dirname, '..', '..');

export interface RtmpBalancer {
  port: number;
  /** The RTMPS listener, when the origins have RTMPS ports. */
  tlsPort: number | undefined;
  pid: number;
  stop(): Promise<void>;
}

/**
 * HAProxy with the repository's RTMP configuration (deploy/haproxy/rtmp.cfg) in front of origins on
 * loopback: its own folder and configuration, never the system's. Only the values the file marks
 * are replaced: the listeners, and one server line per origin; without RTMPS ports, the file's
 * RTMPS part (its end) is left out, as the file says.
 */
export async function startRtmpBalancer(origins: Array<{ rtmpPort: number; httpPort: number; rtmpsPort?: number }>): Promise<RtmpBalancer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtmp-balancer-'));
  const port = await freePort();
  const withTls = origins.every((origin) => origin.rtmpsPort !== undefined);
  const tlsPort = withTls ? await freePort() : undefined;
  let config = fs.readFileSync(path.join(repoRoot, 'deploy', 'haproxy', 'rtmp.cfg'), 'utf8');
  const replace = (marker: RegExp, value: string) => {
    if (!marker.test(config)) throw new Error(`deploy/haproxy/rtmp.cfg no longer has ${marker}`);
    config = config.replace(marker, value);
  };
  const servers = (listener: number, portOf: (origin: (typeof origins)[number]) => number) => {
    const lines = origins.map((origin, i) => `server origin${i + 1} 127.0.0.1:${portOf(origin)} send-proxy check port ${origin.httpPort}`);
    replace(new RegExp(`server origin1 origin1:${listener}[^\\n]*\\n(\\s*server origin\\d origin\\d:${listener}[^\\n]*\\n)*`), `${lines.join('\n    ')}\n`);
  };
  replace(/bind :1935 /, `bind 127.0.0.1:${port} `);
  servers(1935, (origin) => origin.rtmpPort);
  if (tlsPort !== undefined) {
    replace(/bind :1936 /, `bind 127.0.0.1:${tlsPort} `);
    servers(1936, (origin) => origin.rtmpsPort!);
  } else {
    replace(/\n# RTMPS, from here to the end[\s\S]*$/, '\n');
  }
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, config);
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null) throw new Error(`haproxy did not start: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`haproxy did not listen: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    tlsPort,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
