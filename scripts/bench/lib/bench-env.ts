// What every measurement needs: the origin (built, started as an operator would), the anchor
// (nginx-rtmp), and polling of HLS over HTTP.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseMediaPlaylist, type MediaPlaylist } from '../../../src/hls/media-playlist';
import { startOriginProcess, type OriginProcess } from '../../lib/processes';
import { startNginx, type Nginx } from './nginx';
import { sleep } from './stats';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface Workspace {
  dir: string;
  cleanup(): void;
}

export function workspace(name: string): Workspace {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `origin-bench-${name}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export async function withOrigin<T>(env: Record<string, string>, work: (origin: OriginProcess, dir: string) => Promise<T>): Promise<T> {
  const space = workspace('origin');
  const origin = await startOriginProcess(ROOT, { DATABASE_URL: `sqlite:${space.dir}/origin.db`, MEDIA_DIR: `${space.dir}/media`, LOG_LEVEL: 'info', ...env });
  try {
    return await work(origin, space.dir);
  } finally {
    await origin.process.stop();
    space.cleanup();
  }
}

export async function withNginx<T>(work: (nginx: Nginx, dir: string) => Promise<T>, options: Parameters<typeof startNginx>[1] = {}): Promise<T> {
  const space = workspace('nginx');
  const nginx = await startNginx(space.dir, options);
  try {
    return await work(nginx, space.dir);
  } finally {
    await nginx.stop();
    space.cleanup();
  }
}

export async function getText(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url);
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return await response.text();
  } catch {
    return undefined;
  }
}

export async function getMedia(url: string): Promise<MediaPlaylist | undefined> {
  const text = await getText(url);
  return text === undefined ? undefined : parseMediaPlaylist(text);
}

/** URIs a master playlist names (variants and audio renditions), resolved. */
export function masterUris(masterUrl: string, text: string): string[] {
  const uris: string[] = [];
  for (const line of text.split('\n')) {
    const audio = /URI="([^"]+)"/.exec(line);
    if (line.startsWith('#EXT-X-MEDIA:') && audio) uris.push(new URL(audio[1]!, masterUrl).toString());
    else if (line.trim() && !line.startsWith('#')) uris.push(new URL(line.trim(), masterUrl).toString());
  }
  return uris;
}

/** Polls until `ready` returns a value or the time is up. */
export async function poll<T>(ready: () => Promise<T | undefined>, timeoutMs: number, everyMs = 20): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await ready();
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  return undefined;
}
