import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { repoRoot } from '../support/origin';
import { freePort } from '../../scripts/lib/ports';
import { startServerProcess, TSX_LOADER, type ServerProcess } from '../support/server-process';

jest.setTimeout(60_000);

describe('the server process (npm start)', () => {
  let dir: string;
  const started: ServerProcess[] = [];
  const start = (env: Record<string, string> = {}) => {
    const server = startServerProcess({ DATABASE_URL: `sqlite:${dir}/origin.db`, MEDIA_DIR: `${dir}/media`, ...env });
    started.push(server);
    return server;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-process-'));
  });
  afterEach(() => {
    for (const server of started.splice(0)) server.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('first start prints an admin token once, with how to use it; it works; SIGTERM exits cleanly', async () => {
    const first = start();
    const url = await first.httpUrl();
    const token = /^\s+(tok_[A-Za-z0-9]{40})$/m.exec(first.stdout())?.[1];
    expect(token).toBeDefined();
    expect(first.stdout()).toContain(`curl -H "Authorization: Bearer ${token}"`);
    expect(first.stdout()).toContain(`${url}/api/v1/streams`);
    // printed, never logged
    const logLines = first
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(logLines.join('\n')).not.toContain(token!.slice(4));

    const created = await fetch(`${url}/api/v1/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'My show' }),
    });
    expect(created.status).toBe(201);

    first.child.kill('SIGTERM');
    const exit = await first.exited;
    expect(exit.code).toBe(0);

    const second = start();
    await second.httpUrl();
    expect(second.stdout()).not.toContain('An admin API token was created');
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  test('with ADMIN_TOKEN set no token is generated', async () => {
    const server = start({ ADMIN_TOKEN: 'operator-chosen-token-123' });
    const url = await server.httpUrl();
    expect(server.stdout()).not.toContain('An admin API token was created');
    const list = await fetch(`${url}/api/v1/streams`, { headers: { authorization: 'Bearer operator-chosen-token-123' } });
    expect(list.status).toBe(200);
  });

  test('without ffmpeg the server refuses to start and says how to install it', async () => {
    const server = start({ FFMPEG_PATH: path.join(dir, 'no-ffmpeg-here') });
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    expect(server.stderr()).toContain('ffmpeg was not found');
    expect(server.stderr()).toContain('apt-get install -y ffmpeg');
  });

  test("the Docker image's HEALTHCHECK asks the origin in its container for /healthz: healthy while it runs, unhealthy once it is gone", async () => {
    const instruction = /^HEALTHCHECK\b.*\bCMD (\[.*\])$/m.exec(fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
    expect(instruction).not.toBeNull();
    const [command, script, ...rest] = JSON.parse(instruction![1]!) as string[];
    expect([command, rest]).toEqual(['node', []]);
    // The image runs the build (dist/server/…); here its source runs, with the image's HOST.
    const source = path.join(repoRoot, script!.replace(/^dist\/server\//, 'src/').replace(/\.js$/, '.ts'));
    const env = { HOST: '0.0.0.0', HTTP_PORT: String(await freePort()) };
    const healthCheck = () =>
      new Promise<number | null>((resolve) => {
        const check = spawn(process.execPath, ['--import', TSX_LOADER, source], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
        check.on('exit', (code) => resolve(code));
      });

    const server = start(env);
    await server.httpUrl();
    expect(await healthCheck()).toBe(0);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    expect(await healthCheck()).toBe(1);
  });

  test('a bad setting stops the start with the variable named', async () => {
    const server = start({ HTTP_PORT: 'http' });
    expect((await server.exited).code).toBe(2);
    expect(server.stderr()).toContain('HTTP_PORT must be a port number');
  });
});
