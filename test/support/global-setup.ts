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
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
  } catch {
    throw new Error('nginx is required by the tests (the caching tier of deploy/nginx): apt-get install -y nginx');
  }
  // GStreamer is a second publisher, with another RTMP stack than ffmpeg's (test/support/gstreamer.ts).
  for (const element of ['videotestsrc', 'x264enc', 'h264parse', 'voaacenc', 'aacparse', 'flvmux', 'rtmp2sink']) {
    try {
      execFileSync('gst-inspect-1.0', ['--exists', element], { stdio: 'ignore' });
    } catch {
      throw new Error(`GStreamer's ${element} is required by the tests: apt-get install -y ${GSTREAMER_PACKAGES}`);
    }
  }
}

const GSTREAMER_PACKAGES = 'gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly';
