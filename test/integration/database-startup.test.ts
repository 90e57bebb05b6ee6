import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mysqlUrl } from '../support/database';
import { freePort } from '../../scripts/lib/ports';
import { startServerProcess } from '../support/server-process';

jest.setTimeout(60_000);

describe('the server and the CLI with a MySQL database they cannot use', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-db-start-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs the server, then the CLI, on DATABASE_URL: both must say `problem` in one line and exit 1. */
  async function expectRefusal(databaseUrl: string, problem: RegExp): Promise<void> {
    for (const [name, args] of [
      ['origin', undefined],
      ['origin-cli', ['streams', 'list']],
    ] as const) {
      const run = startServerProcess({ DATABASE_URL: databaseUrl, MEDIA_DIR: path.join(dir, 'media') }, args && [...args]);
      const exit = await run.exited;
      const output = `${run.stdout()}\n${run.stderr()}`;
      expect({ name, code: exit.code, stderr: run.stderr() }).toEqual({ name, code: 1, stderr: expect.stringMatching(new RegExp(`^${name}: ${problem.source}\\n$`)) });
      // No stack trace anywhere, nor knex's own report of the failed connection; never the password.
      expect(output).not.toMatch(/^\s+at /m);
      expect(output).not.toContain('Acquire connection error');
      const { password } = new URL(databaseUrl);
      if (password) expect(output).not.toContain(password);
      // The server's log says it too.
      if (name === 'origin') {
        const logged = run
          .stdout()
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { level: string; msg: string });
        expect(logged.filter((line) => line.level === 'fatal').map((line) => line.msg)).toEqual([expect.stringMatching(new RegExp(`^${problem.source}$`))]);
      }
    }
  }

  test('a server nothing listens on: where it was looked for, and what to check', async () => {
    const port = await freePort();
    await expectRefusal(
      `mysql://origin:secret@127.0.0.1:${port}/origin`,
      /cannot reach MySQL at 127\.0\.0\.1:\d+ \(ECONNREFUSED\): is it running, and are the host and port in DATABASE_URL right\?/,
    );
  });

  (mysqlUrl ? describe : describe.skip)('on the test MySQL server', () => {
    test('a database that does not exist: its name, and the statement that creates it', async () => {
      const url = new URL(mysqlUrl!);
      url.pathname = '/origin_no_such_database';
      await expectRefusal(
        url.toString(),
        /database "origin_no_such_database" does not exist on MySQL at [^ ]+: create it with CREATE DATABASE `origin_no_such_database` CHARACTER SET utf8mb4/,
      );
    });

    test('a user MySQL refuses: which user, never the password', async () => {
      const url = new URL(mysqlUrl!);
      url.username = 'origin_no_such_user';
      url.password = 'not-the-password';
      await expectRefusal(url.toString(), /MySQL at [^ ]+ refused user "origin_no_such_user" \(access denied\): check the user and password in DATABASE_URL/);
    });
  });
});
