import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** The e2e tests load the real player bundle; build it once per run. Missing tools fail loudly. */
export default function globalSetup(): void {
  const root = path.resolve(__dirname, '..', '..');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-player.mjs')], { stdio: 'inherit' });
  for (const tool of ['ffmpeg', 'ffprobe']) {
    try {
      execFileSync(tool, ['-version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is required by the tests: apt-get install -y ffmpeg`);
    }
  }
}
