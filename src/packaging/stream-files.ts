import fs from 'node:fs/promises';
import path from 'node:path';
import { ID_PATTERN, PLAYBACK_ID_PATTERN } from '../streams/keys';
import { writeAtomic } from './atomic-write';
import { RECORDING_PLAYLIST, sessionOfMaster, type MediaLayout } from './media-layout';
import { withEndList } from './media-playlist';

/** File operations on a stream's folder beyond what the packager writes as it goes: masters, endings, removal. */
export class StreamFiles {
  constructor(readonly layout: MediaLayout) {}

  writeStreamMaster(playbackId: string, text: string): Promise<void> {
    return writeAtomic(this.layout.streamMaster(playbackId), text);
  }

  writeSessionMaster(playbackId: string, sessionId: string, text: string): Promise<void> {
    return writeAtomic(this.layout.sessionMaster(playbackId, sessionId), text);
  }

  /** The session the stream master currently points into, if any. */
  async currentSession(playbackId: string): Promise<string | undefined> {
    try {
      return sessionOfMaster(await fs.readFile(this.layout.streamMaster(playbackId), 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** For a session whose process died: end its recordings where they stand (live playlists were never files). */
  async endPlaylists(playbackId: string, sessionId: string): Promise<void> {
    const dir = this.layout.sessionDir(playbackId, sessionId);
    for (const entry of await readdirOrEmpty(dir)) {
      const file = path.join(dir, entry, RECORDING_PLAYLIST);
      const text = await fs.readFile(file, 'utf8').catch(() => undefined);
      if (text !== undefined) await writeAtomic(file, withEndList(text));
    }
  }

  async hasPoster(playbackId: string): Promise<boolean> {
    return fileExists(this.layout.poster(playbackId));
  }

  /** A recorded session has its own master playlist (the recording's). */
  async isRecorded(playbackId: string, sessionId: string): Promise<boolean> {
    return fileExists(this.layout.sessionMaster(playbackId, sessionId));
  }

  async removeSession(playbackId: string, sessionId: string): Promise<void> {
    await fs.rm(this.layout.sessionDir(playbackId, sessionId), { recursive: true, force: true });
  }

  /** The stream master and poster, when no session is live any more. */
  async removeStreamEntry(playbackId: string): Promise<void> {
    await fs.rm(this.layout.streamMaster(playbackId), { force: true });
    await fs.rm(this.layout.poster(playbackId), { force: true });
  }

  async removeStream(playbackId: string): Promise<void> {
    await fs.rm(this.layout.streamDir(playbackId), { recursive: true, force: true });
  }

  async sessionIds(playbackId: string): Promise<string[]> {
    return (await readdirOrEmpty(this.layout.sessionsDir(playbackId))).filter((name) => ID_PATTERN.test(name));
  }

  async playbackIds(): Promise<string[]> {
    return (await readdirOrEmpty(this.layout.liveRoot)).filter((name) => PLAYBACK_ID_PATTERN.test(name));
  }

  /** Newest modification time of anything in a folder tree, in ms. */
  async newestChange(dir: string): Promise<number | undefined> {
    let newest: number | undefined;
    const visit = async (current: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(current, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const full = path.join(current, entry.name);
        if (entry.isDirectory()) await visit(full);
        else {
          const stat = await fs.stat(full).catch(() => undefined);
          if (stat && (newest === undefined || stat.mtimeMs > newest)) newest = stat.mtimeMs;
        }
      }
    };
    await visit(dir);
    return newest;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch {
    return [];
  }
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
