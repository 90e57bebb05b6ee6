import { Writable } from 'node:stream';
import { ReadRounds } from '../../src/ingest/read-rounds';
import { Ticker } from '../../src/ticker';
import { createLogger } from '../../src/observability/logger';
import { FFMPEG_OUTPUT } from '../../src/transcode/ffmpeg-args';
import { Fmp4Reader } from '../../src/transcode/fmp4-reader';
import { Transcoder } from '../../src/transcode/transcoder';

const SECONDS = 3;
const FPS = 30;
const ROUND_MS = 250;

describe('Transcoder output read in rounds', () => {
  test('ffmpeg writing a fragment per frame is read once per round, and nothing it wrote is lost', async () => {
    let reads = 0;
    const samples: number[] = [];
    const reader = new Fmp4Reader({ tracks: () => undefined, sample: (_, sample) => samples.push(sample.dts) });
    const stdout = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        reads += 1;
        reader.push(chunk);
        done();
      },
    });
    const transcoder = new Transcoder({
      ffmpegPath: 'ffmpeg',
      logger: createLogger({ level: 'silent', format: 'json' }),
      stopGraceMs: 5000,
      stdout,
      readRounds: new ReadRounds(new Ticker(ROUND_MS)),
    });
    // prettier-ignore
    transcoder.start({
      inputs: [{ options: ['-re', '-f', 'lavfi'], source: `testsrc2=size=320x240:rate=${FPS}` }],
      outputs: [{
        options: ['-t', String(SECONDS), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(FPS), '-f', 'mp4', '-movflags', 'frag_every_frame+empty_moov+default_base_moof'],
        target: FFMPEG_OUTPUT,
      }],
    });
    const exit = await transcoder.exited;
    // The last round after ffmpeg's exit reads what it wrote last.
    const deadline = Date.now() + 5000;
    while (samples.length < SECONDS * FPS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

    expect(exit.code).toBe(0);
    expect(samples).toHaveLength(SECONDS * FPS);
    // Read as ffmpeg writes, that is some 90 reads, one per frame; in rounds, at most one per
    // round (a slower machine only makes fewer).
    expect(reads).toBeLessThanOrEqual((SECONDS * 1000) / ROUND_MS + 6);
  }, 30_000);
});
