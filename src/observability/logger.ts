import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  /** Tests pass a stream to capture what was logged. */
  destination?: DestinationStream;
}

/**
 * Stream keys and API tokens have fixed prefixes, and playback tokens the shape of a JWT (a JSON
 * header, base64url: `eyJ…`), so they can be caught anywhere in a message.
 */
const SECRET_PATTERN = /\b(sk_|tok_)[A-Za-z0-9]{4,}/g;
const JWT_PATTERN = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

export function redactSecrets(text: string): string {
  return text.replace(SECRET_PATTERN, '$1[redacted]').replace(JWT_PATTERN, 'eyJ[redacted]');
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['streamKey', '*.streamKey', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization', 'req.headers.authorization'],
        censor: '[redacted]',
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg)) as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? prettyStream(options.format) ?? pino.destination({ dest: 1, sync: false }),
  );
}

function prettyStream(format: LoggerOptions['format']): DestinationStream | undefined {
  const wanted = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!wanted) return undefined;
  try {
    // A dev dependency: a production install without it falls back to JSON lines.
    const pretty = require('pino-pretty') as (opts: object) => DestinationStream;
    return pretty({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true });
  } catch {
    return undefined;
  }
}
