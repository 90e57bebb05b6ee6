import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeDatabases, createTestDatabase, type TestDatabase } from '../support/database';
import { startTestOrigin } from '../support/origin';
import { startServerProcess } from '../support/server-process';

jest.setTimeout(60_000);

describeDatabases('operator CLI (npm run cli)', (kind) => {
  let dir: string;
  let database: TestDatabase;
  const cli = async (...args: string[]) => {
    const run = startServerProcess({ DATABASE_URL: database.url, MEDIA_DIR: path.join(dir, 'media') }, args);
    const { code } = await run.exited;
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  };
  const json = async (...args: string[]) => {
    const result = await cli(...args, '--json');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-cli-'));
    database = await createTestDatabase(kind, dir);
  });
  afterAll(async () => {
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('streams: create, list, show, disable, enable, reset-key, delete; human output and --json', async () => {
    const human = await cli('streams', 'create', '--name', 'Evening show', '--profile', 'passthrough', '--record', '--reconnect-window', '12');
    expect(human.code).toBe(0);
    const key = /stream key:\s+(sk_[A-Za-z0-9]{32})/.exec(human.stdout)?.[1];
    expect(key).toBeDefined();
    expect(human.stdout).toContain('server (OBS):  rtmp://');
    const id = /Created stream ([A-Za-z0-9]{16})/.exec(human.stdout)![1]!;

    const created = await json('streams', 'create', '--name', 'Second');
    expect(created).toMatchObject({ name: 'Second', profile: 'ladder', enabled: true, status: 'idle' });
    expect(created.streamKey).toMatch(/^sk_/);

    const list = await json('streams', 'list');
    expect(list.map((s: { id: string }) => s.id)).toEqual([created.id, id]);
    expect(JSON.stringify(list)).not.toContain(key!);
    const table = await cli('streams', 'list');
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+STATUS\s+ENABLED\s+PROFILE\s+PLAYBACK ID$/);

    expect(await json('streams', 'show', id)).toMatchObject({ id, name: 'Evening show', profile: 'passthrough', record: true, reconnectWindowSeconds: 12 });
    expect(await json('streams', 'disable', id)).toEqual({ id, enabled: false });
    expect((await json('streams', 'show', id)).enabled).toBe(false);
    expect(await json('streams', 'enable', id)).toEqual({ id, enabled: true });

    const reset = await json('streams', 'reset-key', id);
    expect(reset.streamKey).toMatch(/^sk_/);
    expect(reset.streamKey).not.toBe(key);

    expect(await json('streams', 'delete', id)).toEqual({ id, deleted: true });
    const gone = await cli('streams', 'show', id);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`no stream with id ${id}`);
  });

  test('tokens: create, list, revoke; a CLI token works against the server', async () => {
    const created = await json('tokens', 'create', '--name', 'ci', '--scope', 'admin');
    expect(created.token).toMatch(/^tok_/);
    const origin = await startTestOrigin({ dir, overrides: { databaseUrl: database.url } });
    try {
      expect((await origin.api('GET', '/api/v1/streams', { token: created.token })).status).toBe(200);
      const list = await json('tokens', 'list');
      expect(list.find((t: { id: string }) => t.id === created.id)).toMatchObject({ name: 'ci', scope: 'admin', revokedAt: null });
      expect(JSON.stringify(list)).not.toContain(created.token);
      expect(await json('tokens', 'revoke', created.id)).toEqual({ id: created.id, revoked: true });
      expect((await origin.api('GET', '/api/v1/streams', { token: created.token })).status).toBe(401);
      // the CLI's changes are in the audit log, under the CLI
      const audit = await origin.api('GET', '/api/v1/audit?limit=100');
      expect(audit.body.data.find((e: { action: string }) => e.action === 'tokens.revoke')).toMatchObject({ token: { id: 'cli' }, outcome: 'ok', target: `token:${created.id}` });
    } finally {
      await origin.stop();
    }
  });

  test.each([
    [['streams', 'create'], '--name: must not be empty'],
    [['streams', 'create', '--name', 'x', '--profile', '4k'], '--profile: must be one of'],
    [['streams', 'create', '--name', 'x', '--reconnect-window', 'soon'], '--reconnect-window:'],
    [['streams', 'create', '--name', 'bell\u0007'], '--name: must not contain control characters'],
    [['streams', 'show', 'nope'], 'needs a stream id'],
    [['tokens', 'create', '--name', 'x', '--scope', 'root'], '--scope:'],
    [['tokens', 'revoke', 'AAAAAAAAAAAAAAAA'], 'no active token'],
    [['streams', 'explode'], 'unknown command'],
  ])('%j is refused with a clear message and exit code 2', async (args, message) => {
    const result = await cli(...(args as string[]));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });

  test('without a command it prints its usage', async () => {
    const result = await cli();
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('usage: npm run cli');
  });
});
