// Bundles the viewer page (player/src, TypeScript + hls.js) into dist/player, served by the origin.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'player');
fs.mkdirSync(outdir, { recursive: true });

await build({
  entryPoints: [path.join(root, 'player', 'src', 'main.ts')],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'iife',
  target: ['es2020'],
  outfile: path.join(outdir, 'player.js'),
  logLevel: 'warning',
});

for (const file of ['watch.html', 'player.css']) {
  fs.copyFileSync(path.join(root, 'player', file), path.join(outdir, file));
}
