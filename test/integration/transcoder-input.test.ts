import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/observability/logger';
import { Transcoder } from '../../src/transcode/transcoder';

/**
 * Stands in for ffmpeg: fluent-ffmpeg's questions (what formats, codecs… there are) go to the real
 * one; a run (with -i) notes when each byte of its stdin arrived (one line per read: time, bytes).
 */
const fakeFfmpeg = (readsLog: string) => `#!/usr/bin/env node
const fs = require('node:fs');
if (!process.argv.includes('-i')) {
  process.stdout.write(require('node:child_process').execFileSync('ffmpeg', process.argv.slice(2)), () => process.exit(0));
} else {
const log = fs.openSync(${JSON.stringify(readsLog)}, 'a');
process.stdin.on('data', (data) => fs.writeSync(log, Date.now() + ' ' + data.toString('latin1') + '\\n'));
process.stdin.on('end', () => process.exit(0));
}
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Transcoder input batching', () => {
  let dir: string;
  let transcoder: Transcoder | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'transcoder-input-'));
    fs.writeFileSync(path.join(dir, 'ffmpeg'), fakeFfmpeg(path.join(dir, 'reads.log')), { mode: 0o755 });
  });
  afterEach(async () => {
    await transcoder?.stop(1000);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** When each one-letter chunk reached the fake ffmpeg, in ms after `since`. */
  function arrivals(since: number): Map<string, number> {
    const arrived = new Map<string, number>();
    for (const line of fs.readFileSync(path.join(dir, 'reads.log'), 'latin1').split('\n')) {
      const [at, chunks] = line.split(' ');
      for (const chunk of chunks ?? '') arrived.set(chunk, Number(at) - since);
    }
    return arrived;
  }

  test('a batch goes out with the first write once it is three quarters old, a lone batch on its timer, a flush at once', async () => {
    const batchMs = 1000;
    transcoder = new Transcoder({ ffmpegPath: path.join(dir, 'ffmpeg'), logger: createLogger({ level: 'silent', format: 'json' }), stopGraceMs: 1000, inputBatchMs: batchMs });
    transcoder.start({ inputs: [{ options: ['-f', 'flv'], source: 'pipe:0' }], outputs: [{ options: ['-f', 'null'], target: '-' }] });
    // Until the fake runs and reads its stdin (it opens its log first).
    while (!fs.existsSync(path.join(dir, 'reads.log'))) await sleep(20);
    await sleep(100);
    const started = Date.now();
    const at = new Map<string, number>();
    const write = (chunk: string, flush?: boolean) => {
      at.set(chunk, Date.now() - started);
      transcoder!.write(Buffer.from(chunk, 'latin1'), flush);
    };
    write('a'); // starts a batch
    await sleep(50);
    write('b'); // too soon: gathered
    await sleep(batchMs * 0.8);
    write('c'); // the batch is old enough: 'a', 'b' and 'c' go now, not when the batch is 1 s old
    await sleep(200);
    write('d'); // a new batch that nothing follows: its timer sends it
    await sleep(batchMs * 1.5 + 300);
    write('e');
    write('f', true); // a flush: at once, with what is gathered before it
    await sleep(300);
    transcoder.endInput();
    await transcoder.exited;

    const arrived = arrivals(started);
    const lateness = (chunk: string) => arrived.get(chunk)! - at.get(chunk)!;
    expect([...arrived.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(arrived.get('a')).toBeGreaterThanOrEqual(at.get('c')!);
    expect(lateness('c')).toBeLessThan(100);
    expect(lateness('d')).toBeGreaterThanOrEqual(batchMs * 1.5 - 50);
    expect(lateness('d')).toBeLessThan(batchMs * 1.5 + 250);
    expect(lateness('e')).toBeLessThan(100);
    expect(lateness('f')).toBeLessThan(100);
  });
});
