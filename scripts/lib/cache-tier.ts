import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

const repoRoot = path.resolve(__dirname, '..', '..');

export interface CacheTier {
  url: string;
  /** nginx's access log, in the shipped format. */
  accessLog: string;
  /** The running nginx's master process; its workers are its children. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * nginx with the repository's caching-tier configuration (deploy/nginx/live-origin.conf) in front of
 * origins: its own prefix, configuration and cache in a temporary folder, a loopback port, never
 * the system's nginx. Only the four values the file marks are replaced.
 */
export async function startCacheTier(originHttpPorts: number | number[]): Promise<CacheTier> {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-tier-'));
  const port = await freePort();
  const shipped = fs.readFileSync(path.join(repoRoot, 'deploy', 'nginx', 'live-origin.conf'), 'utf8');
  const replace = (text: string, marker: RegExp, value: string) => {
    if (!marker.test(text)) throw new Error(`deploy/nginx/live-origin.conf no longer has ${marker}`);
    return text.replace(marker, value);
  };
  let site = replace(shipped, /proxy_cache_path \S+/, `proxy_cache_path ${path.join(prefix, 'cache')}`);
  const upstream = [originHttpPorts].flat().map((port) => `server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;`);
  site = replace(site, /server origin1:8000[^\n]*\n(\s*server origin\d:8000[^\n]*\n)*/, `${upstream.join('\n    ')}\n`);
  site = replace(site, /listen 80;/, `listen 127.0.0.1:${port};`);
  const accessLog = path.join(prefix, 'logs', 'access.log');
  site = replace(site, /access_log \S+/, `access_log ${accessLog}`);
  fs.writeFileSync(path.join(prefix, 'live-origin.conf'), site);
  fs.mkdirSync(path.join(prefix, 'logs'));
  // As root, nginx's workers would switch to a user that cannot write into this private folder.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  fs.writeFileSync(
    path.join(prefix, 'nginx.conf'),
    `${user}\nworker_processes 1;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/logs/error.log warn;\nworker_rlimit_nofile 16384;\nevents { worker_connections 8192; }\nhttp {\n  access_log off;\n  include ${prefix}/live-origin.conf;\n}\n`,
  );
  const child = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx did not start: ${stderr}`);
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not answer: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    accessLog,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}
