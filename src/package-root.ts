import fs from 'node:fs';
import path from 'node:path';

/** The checkout (or image) folder: found from this file whether it runs from src/ or dist/server/. */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'config', 'default.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package root above ${from}`);
    dir = parent;
  }
}
