import fs from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../db/knex';
import { freeBytes } from '../packaging/disk-space';
import { checkFfmpeg } from '../transcode/ffmpeg-check';

export interface ReadinessDeps {
  db: Database;
  mediaDir: string;
  minFreeBytes: number;
  ffmpegPath: string;
  now: () => number;
  /** Told to drain: balancers must send publishers elsewhere. */
  draining: () => boolean;
}

export interface Readiness {
  ready: boolean;
  checks: Record<'database' | 'ffmpeg' | 'media' | 'service', { ok: boolean; detail?: string }>;
}

const TIMEOUT_MS = 2000;
/** Running ffmpeg on every probe would be wasteful; its answer does not change often. */
const FFMPEG_CACHE_MS = 60_000;

/**
 * Whether this node can take streams: the database answers, ffmpeg runs, and the media folder
 * takes a write and has room. For a load balancer's or Kubernetes' readiness probe.
 */
export class ReadinessCheck {
  private ffmpeg: { at: number; result: { ok: boolean; detail?: string } } | undefined;

  constructor(private readonly deps: ReadinessDeps) {}

  async check(): Promise<Readiness> {
    const [database, ffmpeg, media] = await Promise.all([this.database(), this.ffmpegCheck(), this.media()]);
    const service = this.deps.draining() ? { ok: false, detail: 'draining: taking no new streams' } : { ok: true };
    return { ready: database.ok && ffmpeg.ok && media.ok && service.ok, checks: { database, ffmpeg, media, service } };
  }

  private async database() {
    return outcome(withTimeout(this.deps.db.raw('select 1'), TIMEOUT_MS));
  }

  private async ffmpegCheck() {
    const now = this.deps.now();
    if (!this.ffmpeg || now - this.ffmpeg.at > FFMPEG_CACHE_MS) {
      this.ffmpeg = { at: now, result: await outcome(withTimeout(checkFfmpeg(this.deps.ffmpegPath), 10_000)) };
    }
    return this.ffmpeg.result;
  }

  private async media() {
    return outcome(
      withTimeout(
        (async () => {
          const probe = path.join(this.deps.mediaDir, `.readyz-${process.pid}`);
          await fs.writeFile(probe, 'ok');
          await fs.rm(probe, { force: true });
          const free = await freeBytes(this.deps.mediaDir);
          if (free < this.deps.minFreeBytes) throw new Error(`${Math.round(free / 1048576)} MiB free, under the ${Math.round(this.deps.minFreeBytes / 1048576)} MiB minimum`);
        })(),
        TIMEOUT_MS,
      ),
    );
  }
}

async function outcome(promise: Promise<unknown>): Promise<{ ok: boolean; detail?: string }> {
  try {
    await promise;
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: (error as Error).message.slice(0, 200) };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
