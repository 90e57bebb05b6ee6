// Pushes a 720p30 test pattern with a tone to the origin, like a streamer would.
//   npm run publish:test -- <streamKey> [--url rtmp://localhost:1935/live] [--seconds N] [--size 1280x720] [--fps 30]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { testPatternArgs } from './lib/test-pattern';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: process.env.RTMP_URL ?? 'rtmp://localhost:1935/live' },
    seconds: { type: 'string' },
    size: { type: 'string', default: '1280x720' },
    fps: { type: 'string', default: '30' },
    'no-audio': { type: 'boolean', default: false },
  },
});
const key = positionals[0];
if (!key) {
  process.stderr.write('usage: npm run publish:test -- <streamKey> [--url rtmp://host:1935/live] [--seconds N] [--size WxH] [--fps N] [--no-audio]\n');
  process.exit(2);
}
const [width, height] = (values.size ?? '').split('x').map(Number);
const args = testPatternArgs({
  url: `${values.url?.replace(/\/+$/, '')}/${key}`,
  width,
  height,
  fps: Number(values.fps),
  audio: !values['no-audio'],
  ...(values.seconds !== undefined && { seconds: Number(values.seconds) }),
});
const ffmpeg = spawn(process.env.FFMPEG_PATH ?? 'ffmpeg', args, { stdio: 'inherit' });
process.stdout.write(`publishing a ${values.size} test pattern to ${values.url}/<key> (Ctrl-C to stop)\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => ffmpeg.kill(signal));
ffmpeg.on('error', (error) => {
  process.stderr.write(`cannot run ffmpeg: ${error.message}\n`);
  process.exit(1);
});
ffmpeg.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
