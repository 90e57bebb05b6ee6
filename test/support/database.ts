import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { createDatabase, migrateToLatest, type Database } from '../../src/db/knex';
import { createLogger } from '../../src/observability/logger';
import { randomBase62 } from '../../src/streams/keys';
import { parseDatabaseUrl } from '../../src/db/database-url';

export type DatabaseKind = 'sqlite' | 'mysql';

/** The MySQL suite runs when TEST_MYSQL_URL is set (as .ci/run does); otherwise it is reported as skipped. */
export const mysqlUrl = process.env.TEST_MYSQL_URL;

export const describeDatabases = (name: string, body: (kind: DatabaseKind) => void) => {
  describe(`${name} [sqlite]`, () => body('sqlite'));
  (mysqlUrl ? describe : describe.skip)(`${name} [mysql]`, () => body('mysql'));
};

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database: a file in `dir`, or a new MySQL schema dropped afterwards. */
export async function createTestDatabase(kind: DatabaseKind, dir: string): Promise<TestDatabase> {
  if (kind === 'sqlite') return { url: `sqlite:${dir}/origin.db`, drop: async () => undefined };
  if (!mysqlUrl) throw new Error('TEST_MYSQL_URL is not set');
  const target = parseDatabaseUrl(mysqlUrl);
  if (target.client !== 'mysql') throw new Error('TEST_MYSQL_URL must be a mysql:// URL');
  const name = `${target.database}_${randomBase62(8).toLowerCase()}`;
  const admin = knex({ client: 'mysql2', connection: { host: target.host, port: target.port, user: target.user, password: target.password } });
  await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4', [name]);
  await admin.destroy();
  const url = new URL(mysqlUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = knex({ client: 'mysql2', connection: { host: target.host, port: target.port, user: target.user, password: target.password } });
      await dropper.raw('DROP DATABASE IF EXISTS ??', [name]);
      await dropper.destroy();
    },
  };
}

/**
 * For a describe block: a fresh database, migrated, with a connection (`db`) open for its tests;
 * closed and dropped after them.
 */
export function useMigratedDatabase(kind: DatabaseKind): { db: Database; url: string } {
  const context = {} as { db: Database; url: string };
  let dir: string;
  let testDb: TestDatabase;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-db-'));
    testDb = await createTestDatabase(kind, dir);
    context.url = testDb.url;
    context.db = createDatabase(testDb.url, createLogger({ level: 'silent', format: 'json' }));
    await migrateToLatest(context.db);
  });
  afterAll(async () => {
    await context.db?.destroy();
    await testDb?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return context;
}
