// The anchor: nginx with the RTMP module, `hls on` with 2-second fragments, on loopback ports, with
// its own prefix and configuration (never the system nginx), stopped by PID.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../lib/ports';
import { manage, type ManagedProcess } from '../../lib/processes';

const MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export function nginxAvailable(): string | undefined {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
  } catch {
    return 'nginx is not installed: apt-get install -y nginx libnginx-mod-rtmp';
  }
  if (!fs.existsSync(MODULE)) return `the RTMP module is missing (${MODULE}): apt-get install -y libnginx-mod-rtmp`;
  return undefined;
}

export interface Nginx {
  rtmpUrl: string;
  httpUrl: string;
  hlsDir: string;
  /** Its master process; workers are its children. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * `serveDir`: also serve this folder under /files/ (the serving benchmark compares nginx and the
 * origin on the same files). Worker processes: one per core, nginx's usual setting.
 */
export async function startNginx(prefix: string, options: { serveDir?: string; workers?: number | 'auto' } = {}): Promise<Nginx> {
  const [rtmpPort, httpPort] = [await freePort(), await freePort()];
  const hlsDir = path.join(prefix, 'hls');
  for (const dir of ['logs', 'hls', 'tmp']) fs.mkdirSync(path.join(prefix, dir), { recursive: true });
  // As root, nginx's workers would switch to an unprivileged user that cannot write into our
  // private temporary folder; keep them as whoever runs the benchmark.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  const config = `
load_module ${MODULE};
${user}
worker_processes ${options.workers ?? 'auto'};
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 4096;
    application live {
      live on;
      record off;
      hls on;
      hls_path ${hlsDir};
      hls_fragment 2s;
      hls_playlist_length 12s;
      hls_cleanup on;
    }
  }
}
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  server {
    listen 127.0.0.1:${httpPort};
    location /hls/ {
      alias ${hlsDir}/;
      add_header Cache-Control no-cache;
      add_header Access-Control-Allow-Origin *;
    }
    ${options.serveDir ? `location /files/ { alias ${options.serveDir}/; add_header Access-Control-Allow-Origin *; }` : ''}
  }
}
`;
  const configFile = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(configFile, config);
  const managed: ManagedProcess = manage('nginx', ['-p', prefix, '-c', configFile, '-g', 'daemon off;']);
  const deadline = Date.now() + 10_000;
  while (!(await listening(httpPort)) || !(await listening(rtmpPort))) {
    if (managed.child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start:\n${managed.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    rtmpUrl: `rtmp://127.0.0.1:${rtmpPort}/live`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    hlsDir,
    pid: managed.child.pid!,
    // nginx's fast shutdown is SIGTERM; stopped by the PID we started.
    stop: () => managed.stop(5000),
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
