import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { testPatternArgs, type TestPatternOptions } from '../../scripts/lib/test-pattern';

export interface RunningProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** SIGTERM, then SIGKILL after 3 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

const running = new Set<RunningProcess>();

export function startProcess(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): RunningProcess {
  return track(spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options }));
}

/** A process started here (its stderr a pipe), stopped by stop() or stopAllProcesses(). */
export function track(child: ChildProcess): RunningProcess {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    child.on('error', () => resolve({ code: null, signal: null, stderr }));
  });
  const handle: RunningProcess = {
    child,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(handle);
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

/** An ffmpeg pushing a test pattern, as a streamer would. */
export function startPublisher(options: TestPatternOptions): RunningProcess {
  return startProcess('ffmpeg', testPatternArgs(options));
}

/** For afterAll/afterEach: nothing a test started may outlive it. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((process) => process.stop()));
}

/** ffmpeg processes whose command line mentions `needle` (e.g. a test's media folder). */
export function ffmpegProcessesMentioning(needle: string): number[] {
  return processesWhose((argv, cmdline) => argv[0]!.endsWith('ffmpeg') && cmdline.includes(needle));
}

/** Processes whose command line (as argv, and whole) matches. */
export function processesWhose(matches: (argv: string[], cmdline: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (matches(cmdline.split('\0'), cmdline)) pids.push(Number(entry));
  }
  return pids;
}
