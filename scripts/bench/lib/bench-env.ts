// What every measurement needs: the origin (built, started as an operator would) and the anchor
// (nginx-rtmp), each in its own temporary folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startOriginProcess, type OriginProcess } from '../../lib/processes';
import { startNginx, type Nginx } from './nginx';

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
