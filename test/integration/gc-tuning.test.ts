import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/origin';
import { TSX_LOADER } from '../support/server-process';

/**
 * V8's old-generation limits in a process that keeps ~20 MB and adds to it slowly between full
 * collections, as the origin does (docs/decisions.md, performance choices). V8's own trace gives,
 * each time it sets a new limit, the growing factor it chose itself (`factor 1.4 based on …`)
 * and the one it applied (`Limit: … (4.0)`).
 */
function heapLimits(dir: string, tuned: boolean, v8Flags: string[] = []): { chosen: number[]; applied: number[] } {
  const probe = path.join(dir, 'probe.ts');
  fs.writeFileSync(
    probe,
    `import { tuneGarbageCollection } from ${JSON.stringify(path.join(repoRoot, 'src', 'gc-tuning'))};
if (process.argv[2] === 'tuned') tuneGarbageCollection();
const live: unknown[] = [];
for (let i = 0; i < 200_000; i++) live.push({ i, s: String(i) });
const gc = (globalThis as { gc?: () => void }).gc!;
let sink = 0;
void (async () => {
  for (let round = 0; round < 6; round++) {
    for (let t = 0; t < 20; t++) {
      for (let i = 0; i < 2_000; i++) sink += [i, i + 1].length;
      live.push({ t });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    gc();
  }
  if (sink === 0) process.exit(1);
})();
`,
  );
  const trace = execFileSync(process.execPath, [...v8Flags, '--import', TSX_LOADER, '--expose-gc', '--trace-gc-verbose', probe, tuned ? 'tuned' : 'plain'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const factors = (pattern: RegExp) => [...trace.matchAll(pattern)].map((match) => Number(match[1]));
  return {
    chosen: factors(/\[HeapController\] factor (\d+(?:\.\d+)?) based on/gm),
    applied: factors(/\[HeapController\] Limit: .*\((\d+(?:\.\d+)?)\)$/gm),
  };
}

describe('garbage collection tuning', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-gc-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('once the origin has tuned it, V8 sets every old-generation limit at four times the live heap', () => {
    const tuned = heapLimits(dir, true);
    expect(tuned.applied.length).toBeGreaterThanOrEqual(6);
    // The first limits are set before the probe calls the tuning (start-up collections).
    expect(tuned.applied.slice(-6)).toEqual([4, 4, 4, 4, 4, 4]);
  });

  test("the limit is the tuning's, not V8's own choice: where V8 would choose less, four times is applied all the same", () => {
    // V8 picks its factor from timings, and a loaded machine makes it pick four by itself. A heap
    // capped at 512 MB caps V8's own choice at 1.4 whatever the timings, so the control is the
    // same on any machine.
    const capped = ['--max-old-space-size=512'];
    const plain = heapLimits(dir, false, capped);
    expect(plain.applied.length).toBeGreaterThanOrEqual(6);
    expect(Math.max(...plain.applied)).toBeLessThan(4);
    const tuned = heapLimits(dir, true, capped);
    expect(tuned.chosen.length).toBeGreaterThanOrEqual(6);
    expect(Math.max(...tuned.chosen.slice(-6))).toBeLessThan(4);
    expect(tuned.applied.slice(-6)).toEqual([4, 4, 4, 4, 4, 4]);
  });
});
