import { execFile } from 'node:child_process';

export class FfmpegMissingError extends Error {
  override name = 'FfmpegMissingError';
}

/**
 * Runs `ffmpeg -version` and checks for libx264, so that a missing or unusable ffmpeg stops the
 * server at start with a clear message instead of failing the first publish.
 */
export async function checkFfmpeg(ffmpegPath: string): Promise<{ version: string }> {
  const version = await run(ffmpegPath, ['-hide_banner', '-version']).catch((error: NodeJS.ErrnoException) => {
    throw new FfmpegMissingError(
      error.code === 'ENOENT'
        ? `ffmpeg was not found (FFMPEG_PATH=${ffmpegPath}). Install it with "apt-get install -y ffmpeg" or set FFMPEG_PATH to its location.`
        : `ffmpeg at ${ffmpegPath} does not run: ${error.message}`,
    );
  });
  const encoders = await run(ffmpegPath, ['-hide_banner', '-encoders']);
  if (!/\blibx264\b/.test(encoders)) {
    throw new FfmpegMissingError(`ffmpeg at ${ffmpegPath} has no libx264 encoder; install a build with it (Debian's ffmpeg package has it).`);
  }
  return { version: /ffmpeg version (\S+)/.exec(version)?.[1] ?? 'unknown' };
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}
