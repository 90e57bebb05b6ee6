/** Codes of errors that mean "the database cannot be reached", not "this query is wrong". */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code, fatal } = error as { name?: unknown; code?: unknown; fatal?: unknown };
  // KnexTimeoutError: no connection could be had from the pool in time.
  return name === 'KnexTimeoutError' || fatal === true || (typeof code === 'string' && UNREACHABLE.has(code));
}
