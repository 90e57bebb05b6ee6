import { parseDatabaseUrl } from './database-url';

/** The database named by DATABASE_URL cannot be used at all; the message says why and what to do, in one line. */
export class DatabaseProblem extends Error {
  override name = 'DatabaseProblem';
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN']);

/**
 * The failures a configuration causes (a server that is not there, a database not created, a user
 * refused), as an operator should read them; undefined for anything else, which keeps its own
 * error. Never includes the password.
 */
export function explainDatabaseError(error: unknown, url: string): string | undefined {
  const target = parseDatabaseUrl(url);
  if (target.client !== 'mysql' || typeof error !== 'object' || error === null) return undefined;
  const { code, name } = error as { code?: unknown; name?: unknown };
  const at = `MySQL at ${target.host}:${target.port}`;
  if (code === 'ER_BAD_DB_ERROR') {
    return `database "${target.database}" does not exist on ${at}: create it with CREATE DATABASE \`${target.database}\` CHARACTER SET utf8mb4`;
  }
  // MariaDB says ACCESS_DENIED_NO_PASSWORD for a user it does not know, whatever the password.
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR')
    return `${at} refused user "${target.user}" (access denied): check the user and password in DATABASE_URL`;
  if (code === 'ER_DBACCESS_DENIED_ERROR') {
    return `${at} does not let user "${target.user}" use database "${target.database}": GRANT ALL ON \`${target.database}\`.* TO '${target.user}'@'%'`;
  }
  if (typeof code === 'string' && UNREACHABLE.has(code)) return `cannot reach ${at} (${code}): is it running, and are the host and port in DATABASE_URL right?`;
  if (typeof code === 'string' && UNRESOLVED.has(code)) return `cannot find the MySQL host "${target.host}" (${code}): check the host in DATABASE_URL`;
  // No connection from the pool in time: the server did not answer the connection attempts.
  if (name === 'KnexTimeoutError') return `no answer from ${at}: is it running and reachable from here?`;
  return undefined;
}
