import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { parseDatabaseUrl } from './database-url';
import { migrationSource } from './migrations';

export type Database = Knex;

export function createDatabase(url: string): Database {
  const target = parseDatabaseUrl(url);
  if (target.client === 'sqlite') {
    fs.mkdirSync(path.dirname(target.filename), { recursive: true });
    return knex({
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

export async function migrateToLatest(db: Database): Promise<void> {
  await db.migrate.latest({ migrationSource });
}
