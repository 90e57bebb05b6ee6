import fs from 'node:fs/promises';
import path from 'node:path';

let counter = 0;

/** Readers (players, the HTTP server) see the old file or the new one, never half of one. */
export async function writeAtomic(file: string, content: string): Promise<void> {
  counter += 1;
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter}.tmp`);
  await fs.writeFile(tmp, content);
  await fs.rename(tmp, file);
}
