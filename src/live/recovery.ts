import fs from 'node:fs';
import type { StreamFiles } from '../packaging/stream-files';
import type { Logger } from '../observability/logger';
import type { StreamRepository } from '../streams/stream-repository';
import type { SessionRepository } from './session-repository';

/**
 * At boot: sessions this node left open when it died are closed with reason `crashed`. Their
 * playlists are ended where they stand; a recorded session keeps its recording, an unrecorded one's
 * files go, and so does the stream's master that pointed at it.
 */
export async function recoverCrashedSessions(deps: {
  sessions: SessionRepository;
  streams: StreamRepository;
  files: StreamFiles;
  node: string;
  now: number;
  logger: Logger;
}): Promise<number> {
  const closed = await deps.sessions.closeOpen(deps.node, deps.now, 'crashed');
  for (const session of closed) {
    const stream = await deps.streams.findById(session.streamId);
    if (!stream) continue;
    const { playbackId } = stream;
    await deps.files.endPlaylists(playbackId, session.id);
    if (!session.recorded) await deps.files.removeSession(playbackId, session.id);
    if ((await deps.files.currentSession(playbackId)) === session.id) await deps.files.removeStreamEntry(playbackId);
    deps.logger.warn({ session: session.id, playbackId, recorded: session.recorded }, 'closed a session left open by a crash');
  }
  return closed.length;
}

/**
 * ffmpeg processes still writing into this media folder belong to an origin that died without
 * stopping them (they normally exit when their stdin closes). Linux only; elsewhere a no-op.
 */
export function killOrphanTranscoders(liveRoot: string, logger: Logger): number {
  let killed = 0;
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv[0]?.endsWith('ffmpeg') || !argv.some((arg) => arg.startsWith(`${liveRoot}/`))) continue;
    if (hasLiveNodeParent(entry)) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
      killed += 1;
      logger.warn({ pid: Number(entry) }, 'killed an ffmpeg left behind by an earlier run of this origin');
    } catch {
      // already gone, or not ours to kill
    }
  }
  return killed;
}

/** An ffmpeg whose parent is a running Node process belongs to a live origin, not a dead one. */
function hasLiveNodeParent(pid: string): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    return fs.readFileSync(`/proc/${ppid}/cmdline`, 'utf8').includes('node');
  } catch {
    return false;
  }
}
