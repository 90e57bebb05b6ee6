import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { catchesSignal } from '../../scripts/lib/proc';
import { repoRoot } from './origin';

export interface ServerProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The public URL from the "origin listening" log line. */
  httpUrl(): Promise<string>;
  /** Whether the process has a handler for the signal yet (until then the signal's default action applies). */
  catches(signal: NodeJS.Signals): boolean;
  /** SIGKILL, to its whole process group if it has one. */
  kill(): void;
}

/** For `node --import`: runs TypeScript sources in a plain node process. */
export const TSX_LOADER = pathToFileURL(path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/**
 * A real entry point through tsx, with its own environment: the server (src/main.ts, as `npm
 * start` runs it) or, with arguments, the CLI (src/cli/main.ts, as `npm run cli` runs it).
 * `processGroup`: the process leads a group of its own, with every process it starts, as a
 * command started from a terminal does (whose Ctrl-C signals the whole group).
 */
export function startServerProcess(env: Record<string, string>, cliArgs?: string[], options: { processGroup?: boolean } = {}): ServerProcess {
  // One process (no tsx CLI wrapper), so that signals reach the program itself.
  const entry = cliArgs ? [path.join(repoRoot, 'src', 'cli', 'main.ts'), ...cliArgs] : [path.join(repoRoot, 'src', 'main.ts')];
  const child = spawn(process.execPath, ['--import', TSX_LOADER, ...entry], {
    cwd: env.CWD ?? repoRoot,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', HTTP_PORT: '0', RTMP_PORT: '0', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.processGroup ?? false,
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    httpUrl: async () => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const match = /"msg":"origin listening"/.test(out) ? /"http":"([^"]+)"/.exec(out) : null;
        if (match?.[1]) return match[1];
        if (child.exitCode !== null) throw new Error(`the server exited: ${err || out}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the server did not start: ${err || out}`);
    },
    catches: (signal) => child.pid !== undefined && catchesSignal(child.pid, signal),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (options.processGroup && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group is empty already.
        }
      }
    },
  };
}
