// The Docker image's HEALTHCHECK: exits 0 when the origin of this container answers /healthz, 1
// otherwise. It reads the same configuration as the server (in the image there is no curl, and
// the port may have been changed), and asks on loopback when the server listens on every address.
import path from 'node:path';
import { loadConfig } from './config/load';
import { packageRoot } from './package-root';

/** Below Docker's default --timeout (30 s) and the image's (5 s): a hung origin is unhealthy, not a hung check. */
const TIMEOUT_MS = 4000;

function healthzUrl(): string {
  const config = loadConfig({ env: process.env, configDir: path.join(packageRoot(), 'config'), cwd: process.cwd() });
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.httpPort}/healthz`;
}

// Docker keeps what a failed check printed (docker inspect): say why.
Promise.resolve()
  .then(() => fetch(healthzUrl(), { signal: AbortSignal.timeout(TIMEOUT_MS) }))
  .then(
    (response) => {
      if (!response.ok) process.stderr.write(`unhealthy: /healthz answered ${response.status}\n`);
      process.exit(response.ok ? 0 : 1);
    },
    (error: unknown) => {
      process.stderr.write(`unhealthy: ${error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error)}\n`);
      process.exit(1);
    },
  );
