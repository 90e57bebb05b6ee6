import fs from 'node:fs/promises';
import path from 'node:path';
import type { MediaLayout } from './media-layout';
import { parseMediaPlaylist, withEndList, type MediaPlaylist } from './media-playlist';

/** The files of one stream's live output. Writes are atomic (temporary file, then rename). */
export class StreamOutput {
  constructor(
    private readonly layout: MediaLayout,
    readonly playbackId: string,
  ) {}

  get dir(): string {
    return this.layout.streamDir(this.playbackId);
  }

  /** A new session starts from an empty folder. */
  async reset(renditions: readonly string[]): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
    await this.ensureRenditions(renditions);
  }

  async ensureRenditions(renditions: readonly string[]): Promise<void> {
    for (const rendition of renditions) await fs.mkdir(this.layout.renditionDir(this.playbackId, rendition), { recursive: true });
  }

  renditionDir(rendition: string): string {
    return this.layout.renditionDir(this.playbackId, rendition);
  }

  async writeMaster(text: string): Promise<void> {
    await writeAtomic(this.layout.masterPlaylist(this.playbackId), text);
  }

  async readPlaylist(rendition: string): Promise<MediaPlaylist | undefined> {
    try {
      return parseMediaPlaylist(await fs.readFile(this.layout.mediaPlaylist(this.playbackId, rendition), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** ffmpeg runs with omit_endlist (a run may be followed by another); the session's end is ours to mark. */
  async endPlaylists(renditions: readonly string[]): Promise<void> {
    for (const rendition of renditions) {
      const file = this.layout.mediaPlaylist(this.playbackId, rendition);
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      await writeAtomic(file, withEndList(text));
    }
  }
}

export async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, file);
}
