import v8 from 'node:v8';

/**
 * Lets V8's old generation grow to four times what survived the last full collection (V8's own
 * upper bound) before the next one is due, instead of the 1.1 times it picks for this process.
 *
 * V8 sizes the old generation by how fast the program fills it compared with how fast it can be
 * collected. The origin keeps little (about 20 MB live, growing by well under a megabyte a
 * second) and collects it quickly, so V8 keeps the limit tight and starts marking again almost as
 * soon as a full collection ends: two or three a second at 40 passthrough streams. Marking runs
 * mostly on V8's helper threads, which V8 treats as free, but which take the same cores as the
 * publishers and ffmpeg: a quarter of the origin's CPU there (docs/decisions.md).
 * With room to grow, full collections come every few seconds, when the memory outside the heap
 * (buffers) asks for one. The cost is memory: at most some 80 MB more heap.
 *
 * The flag is read each time V8 sets a new limit, so setting it as the process starts is enough.
 */
export function tuneGarbageCollection(): void {
  v8.setFlagsFromString('--heap-growing-percent=300');
}
