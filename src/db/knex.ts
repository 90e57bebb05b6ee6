import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import type { Logger } from '../observability/logger';
import { DatabaseProblem, explainDatabaseError } from './database-problem';
import { parseDatabaseUrl } from './database-url';
import { migrationSource } from './migrations';

export type Database = Knex;

/**
 * knex writes its warnings with console.log, outside the log. A failed connection attempt (which
 * it reports with a stack) also fails the query that wanted the connection, and whoever ran that
 * query reports it; a pooled connection found dead is replaced without anyone noticing. So those
 * two are only debug; anything else knex says is kept at its level.
 */
function knexLog(logger: Logger): Knex.Config['log'] {
  const log = logger.child({ component: 'knex' });
  return {
    warn: (message: unknown) => {
      const text = String(message);
      if (/^(Acquire connection error|Connection Error): /.test(text)) log.debug(text.split('\n')[0]!);
      else log.warn(text);
    },
    error: (message: unknown) => log.error(String(message)),
    deprecate: (message: unknown) => log.warn(String(message)),
    debug: (message: unknown) => log.debug(String(message)),
  };
}

/** The database named by `url`, migrated; a DatabaseProblem when a configuration makes it unusable. */
export async function openDatabase(url: string, logger: Logger): Promise<Database> {
  const db = createDatabase(url, logger);
  await prepareDatabase(db, url);
  return db;
}

/** Brings the schema up to date; if that fails, the database is closed and the error explained in a line where it can be. */
export async function prepareDatabase(db: Database, url: string): Promise<void> {
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    const problem = explainDatabaseError(error, url);
    throw problem === undefined ? error : new DatabaseProblem(problem, { cause: error });
  }
}

export function createDatabase(url: string, logger: Logger): Database {
  const target = parseDatabaseUrl(url);
  const log = knexLog(logger);
  if (target.client === 'sqlite') {
    fs.mkdirSync(path.dirname(target.filename), { recursive: true });
    return knex({
      log,
      client: 'better-sqlite3',
      connection: { filename: target.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        // WAL lets the CLI read while the server writes; busy_timeout waits instead of failing on a lock.
        afterCreate: (conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
          conn.pragma('journal_mode = WAL');
          conn.pragma('busy_timeout = 5000');
          conn.pragma('foreign_keys = ON');
          done(null, conn);
        },
      },
    });
  }
  return knex({
    log,
    client: 'mysql2',
    connection: {
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database: target.database,
      charset: 'utf8mb4',
      connectTimeout: 5000,
    },
    pool: { min: 0, max: 10 },
    acquireConnectionTimeout: 5000,
  });
}

/** Nodes of a cluster starting together: one migrates, the others wait for it this long (seconds). */
const MIGRATION_LOCK_WAIT_SECONDS = 60;
const MIGRATION_LOCK = 'live-origin:migrations';

/**
 * On MySQL, nodes of a cluster starting together on a new database would race to create knex's
 * own lock table: a named lock (GET_LOCK, released with its connection if the node dies) lets one
 * migrate at a time.
 */
export async function migrateToLatest(db: Database): Promise<void> {
  if (db.client.config.client !== 'mysql2') {
    await db.migrate.latest({ migrationSource });
    return;
  }
  const connection = (await db.client.acquireConnection()) as { query(sql: string, values: unknown[], done: (error: Error | null, rows: unknown) => void): void };
  const query = (sql: string, values: unknown[]) =>
    new Promise<Array<Record<string, unknown>>>((resolve, reject) =>
      connection.query(sql, values, (error, rows) => (error ? reject(error) : resolve(rows as Array<Record<string, unknown>>))),
    );
  try {
    const [row] = await query('SELECT GET_LOCK(?, ?) AS got', [MIGRATION_LOCK, MIGRATION_LOCK_WAIT_SECONDS]);
    if (Number(row?.got) !== 1) throw new Error(`another node has been migrating the database for ${MIGRATION_LOCK_WAIT_SECONDS} s`);
    try {
      await db.migrate.latest({ migrationSource });
    } finally {
      await query('SELECT RELEASE_LOCK(?)', [MIGRATION_LOCK]);
    }
  } finally {
    await db.client.releaseConnection(connection);
  }
}
