// Starting the origin and test publishers from scripts (soak, benchmarks), and stopping them.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { testPatternArgs, type TestPatternOptions } from './test-pattern';

export interface ManagedProcess {
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function manage(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ManagedProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 1_000_000) output = output.slice(-500_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function startTestPattern(options: TestPatternOptions): ManagedProcess {
  return manage(process.env.FFMPEG_PATH ?? 'ffmpeg', testPatternArgs(options));
}

export interface OriginProcess {
  process: ManagedProcess;
  httpUrl: string;
  /** rtmp://host:port/live */
  rtmpUrl: string;
  adminToken: string;
  api(method: string, urlPath: string, body?: unknown): Promise<any>;
}

/**
 * The built server (dist/), on loopback with random ports, as an operator would run it. Logs at
 * info at least: the listening line says where it is. ORIGIN_NODE_ARGS (say, --cpu-prof) are
 * given to its node, for profiling under a benchmark's load.
 */
export async function startOriginProcess(root: string, env: Record<string, string>): Promise<OriginProcess> {
  const adminToken = `bench-${randomBytes(16).toString('hex')}`;
  const nodeArgs = (process.env.ORIGIN_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const managed = manage(process.execPath, [...nodeArgs, path.join(root, 'dist', 'server', 'main.js')], {
    PATH: process.env.PATH,
    HOST: '127.0.0.1',
    HTTP_PORT: '0',
    RTMP_PORT: '0',
    LOG_FORMAT: 'json',
    ADMIN_TOKEN: adminToken,
    ...env,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = managed
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"origin listening"'));
    if (line) {
      const { http, rtmp } = JSON.parse(line) as { http: string; rtmp: string };
      return {
        process: managed,
        httpUrl: http,
        rtmpUrl: rtmp,
        adminToken,
        api: async (method, urlPath, body) => {
          const response = await fetch(`${http}${urlPath}`, {
            method,
            headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
            ...(body !== undefined && { body: JSON.stringify(body) }),
          });
          const text = await response.text();
          if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${text}`);
          return text ? JSON.parse(text) : undefined;
        },
      };
    }
    if (managed.child.exitCode !== null || Date.now() > deadline) {
      await managed.stop();
      throw new Error(`the origin did not start:\n${managed.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
