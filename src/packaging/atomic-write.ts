import fs from 'node:fs';
import path from 'node:path';

let counter = 0;

function temporaryName(file: string): string {
  counter += 1;
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter}.tmp`);
}

/** Readers (players, the HTTP server) see the old file or the new one, never half of one. */
export async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = temporaryName(file);
  await fs.promises.writeFile(tmp, content);
  await fs.promises.rename(tmp, file);
}

/** writeAtomic on the calling thread, for code that cannot wait (the packager ending a session's playlists). */
export function writeAtomicSync(file: string, content: string): void {
  const tmp = temporaryName(file);
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}
