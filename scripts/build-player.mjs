// Bundles the viewer page (player/src, TypeScript + hls.js) and the operator console (console/src)
// into dist/player, served by the origin.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'player');
fs.mkdirSync(outdir, { recursive: true });

for (const [folder, bundle] of [
  ['player', 'player.js'],
  ['console', 'console.js'],
]) {
  await build({
    entryPoints: [path.join(root, folder, 'src', 'main.ts')],
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'iife',
    target: ['es2020'],
    outfile: path.join(outdir, bundle),
    logLevel: 'warning',
  });
}

for (const file of ['watch.html', 'page.html', 'base.css', 'player.css']) {
  fs.copyFileSync(path.join(root, 'player', file), path.join(outdir, file));
}
for (const file of ['console.html', 'console.css']) {
  fs.copyFileSync(path.join(root, 'console', file), path.join(outdir, file));
}

// Compressed once here, so the origin serves the bundle (mostly hls.js) at a quarter of its size without compressing per request.
for (const file of ['player.js', 'base.css', 'player.css', 'console.js', 'console.css']) {
  const content = fs.readFileSync(path.join(outdir, file));
  fs.writeFileSync(path.join(outdir, `${file}.br`), zlib.brotliCompressSync(content, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
  fs.writeFileSync(path.join(outdir, `${file}.gz`), zlib.gzipSync(content, { level: 9 }));
}
