import path from 'node:path';
import { ConfigError, loadConfig } from './config/load';
import { DatabaseProblem } from './db/database-problem';
import { tuneGarbageCollection } from './gc-tuning';
import { createLogger } from './observability/logger';
import { startOrigin, type Origin } from './app/origin';
import { packageRoot } from './package-root';
import { FfmpegMissingError } from './transcode/ffmpeg-check';

const SHUTDOWN_LIMIT_MS = 10_000;

async function main(): Promise<void> {
  tuneGarbageCollection();
  const root = packageRoot();
  let config;
  try {
    config = loadConfig({ env: process.env, configDir: path.join(root, 'config'), cwd: process.cwd() });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`origin: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });

  let signals = 0;
  let origin: Origin | undefined;
  // Signals are taken from the start: until a handler is installed, SIGTERM or SIGUSR2 would kill
  // the process outright. One that comes while the origin starts is acted on once it has started.
  const waiting: Array<(started: Origin) => void> = [];
  const whenStarted = (action: (started: Origin) => void): void => (origin ? action(origin) : void waiting.push(action));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGUSR2', () =>
    whenStarted((started) => {
      logger.info({ signal: 'SIGUSR2' }, 'draining');
      started.drain();
    }),
  );
  // After renewing the RTMPS certificate: new connections get it, live streams go on.
  process.on('SIGHUP', () =>
    whenStarted((started) => {
      try {
        started.reloadTls();
        logger.info({ signal: 'SIGHUP' }, 'RTMPS certificate and key read again');
      } catch (error) {
        logger.error({ signal: 'SIGHUP', err: (error as Error).message }, 'RTMPS certificate and key not reloaded; the previous ones stay in use');
      }
    }),
  );

  let started: Origin;
  try {
    // A drained node exits as a signalled one does: everything stopped in order, then exit 0.
    started = await startOrigin({ config, logger, assetsDir: path.join(root, 'dist', 'player'), onDrained: () => onSignal('SIGTERM') });
  } catch (error) {
    // Asked to stop while starting: a Ctrl-C reaches the start's own ffmpeg check too, so its
    // failure is no fault to report.
    if (signals > 0) {
      logger.info({ err: (error as Error).message }, 'stopped before it had started');
      process.exit(0);
    }
    // What an operator has to fix: said in one line, without a stack trace.
    if (error instanceof FfmpegMissingError || error instanceof DatabaseProblem) {
      logger.fatal(error.message);
      process.stderr.write(`origin: ${error.message}\n`);
    } else {
      logger.fatal({ err: error }, 'the origin could not start');
    }
    process.exit(1);
  }

  if (started.bootstrapToken) {
    // Printed, not logged: the one time this secret is shown.
    process.stdout.write(
      [
        '',
        '  An admin API token was created. It is shown only this once; store it now:',
        '',
        `    ${started.bootstrapToken}`,
        '',
        '  Create a stream with it:',
        `    curl -H "Authorization: Bearer ${started.bootstrapToken}" -H 'content-type: application/json' \\`,
        `         -d '{"name":"My show"}' ${started.urls.publicUrl}/api/v1/streams`,
        '',
      ].join('\n') + '\n',
    );
  }

  // The last resort. Sessions, connections and requests catch their own errors; one that still
  // escapes is a bug, logged and counted, and the origin keeps serving everyone else.
  process.on('uncaughtException', (error) => {
    started.metrics.uncaughtErrors.inc();
    logger.error({ err: error }, 'uncaught exception');
  });
  process.on('unhandledRejection', (reason) => {
    started.metrics.uncaughtErrors.inc();
    logger.error({ err: reason }, 'unhandled promise rejection');
  });

  origin = started;
  for (const action of waiting.splice(0)) action(started);

  function onSignal(signal: NodeJS.Signals): void {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    whenStarted((started) =>
      started.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'error during shutdown');
          process.exit(1);
        },
      ),
    );
  }
}

void main();
