import fs from 'node:fs/promises';

/** Free bytes for unprivileged writers on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const stats = await fs.statfs(dir);
  return stats.bavail * stats.bsize;
}
