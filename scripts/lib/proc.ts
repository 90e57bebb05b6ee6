// Process figures from Linux's /proc, for the soak test, the benchmarks and tests.
import fs from 'node:fs';
import os from 'node:os';

const CLOCK_TICKS = 100;

function stat(pid: number): string[] | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: split after it.
    return [text.slice(0, text.indexOf('(')), text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), ...text.slice(text.lastIndexOf(')') + 2).split(' ')];
  } catch {
    return undefined;
  }
}

/** User + system CPU time of a process so far, in seconds (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  const fields = stat(pid);
  if (!fields) return 0;
  // After pid and comm: state is field 0 of the rest; utime and stime are fields 11 and 12.
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/** A "Name:   N kB" line of a /proc file, in bytes (0 once the process is gone). */
function kilobyteField(file: string, name: string): number {
  try {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(file, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function rssBytes(pid: number): number {
  return kilobyteField(`/proc/${pid}/status`, 'VmRSS');
}

/**
 * Proportional set size: shared pages (libraries, read-only code) are split between the processes
 * that map them, so the sum over many ffmpeg processes is what they really occupy together.
 */
export function pssBytes(pid: number): number {
  return kilobyteField(`/proc/${pid}/smaps_rollup`, 'Pss');
}

/** Times the process's main thread went to sleep and was woken (voluntary context switches; 0 once it is gone). */
export function mainThreadWakeups(pid: number): number {
  try {
    return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Whether the process has a handler for the signal (until then the signal's default action applies; false once it is gone). */
export function catchesSignal(pid: number, signal: NodeJS.Signals): boolean {
  try {
    const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return caught !== undefined && ((BigInt(`0x${caught}`) >> BigInt(os.constants.signals[signal] - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

export function openFiles(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Direct children of a process, with their command names. */
export function childrenOf(parent: number): Array<{ pid: number; command: string }> {
  const children: Array<{ pid: number; command: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = stat(Number(entry));
    if (fields && Number(fields[3]) === parent) children.push({ pid: Number(entry), command: fields[1]! });
  }
  return children;
}
