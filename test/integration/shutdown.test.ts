import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex from 'knex';
import { parseMediaPlaylist } from '../../scripts/lib/media-playlist';
import { ffmpegProcessesMentioning, startPublisher, stopAllProcesses } from '../support/processes';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(120_000);

const TOKEN = 'shutdown-test-admin-token';

describe('the server process with live streams', () => {
  let dir: string;
  const servers: ServerProcess[] = [];
  const start = (env: Record<string, string> = {}, options: { processGroup?: boolean } = {}) => {
    const server = startServerProcess({ DATABASE_URL: `sqlite:${dir}/origin.db`, MEDIA_DIR: `${dir}/media`, ADMIN_TOKEN: TOKEN, ...env }, undefined, options);
    servers.push(server);
    return server;
  };
  const sessionsTable = async () => {
    const db = knex({ client: 'better-sqlite3', connection: { filename: `${dir}/origin.db` }, useNullAsDefault: true });
    try {
      return await db('sessions').select('id', 'state', 'end_reason');
    } finally {
      await db.destroy();
    }
  };
  const playlistsUnder = (root: string) => {
    const found: string[] = [];
    const visit = (d: string) => {
      for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
        if (entry.isDirectory()) visit(path.join(d, entry.name));
        else if (entry.name === 'index.m3u8') found.push(path.join(d, entry.name));
      }
    };
    visit(root);
    return found;
  };

  /** 854x480 is encoded (360p) by an ffmpeg; 640x360 is only copied, remuxed in the origin. */
  async function goLive(url: string, rtmpPort: number, name: string, size: { width: number; height: number } = { width: 854, height: 480 }) {
    const response = await fetch(`${url}/api/v1/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    const stream = (await response.json()) as { streamKey: string; playbackId: string };
    startPublisher({ url: `rtmp://127.0.0.1:${rtmpPort}/live/${stream.streamKey}`, ...size });
    await waitFor(async () => ((await (await fetch(`${url}/api/v1/public/streams/${stream.playbackId}`)).json()) as { status: string }).status === 'live', {
      what: `${name} to be live`,
      timeoutMs: 25_000,
    });
    return stream;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-shutdown-'));
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) server.kill();
    await stopAllProcesses();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('SIGTERM during two live streams, one in ffmpeg and one remuxed: playlists end, sessions close as shutdown, no ffmpeg left, exit within 10 s', async () => {
    const server = start();
    const url = await server.httpUrl();
    const rtmpPort = Number(/"rtmp":"rtmp:\/\/[^:]+:(\d+)\//.exec(server.stdout())![1]);
    await goLive(url, rtmpPort, 'one');
    await goLive(url, rtmpPort, 'two', { width: 640, height: 360 });
    expect(ffmpegProcessesMentioning(dir)).toHaveLength(1);

    const signalled = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    if (exit.code !== 0) console.log(server.stdout().split('\n').slice(-30).join('\n'), server.stderr());
    expect(exit.code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);

    const playlists = playlistsUnder(path.join(dir, 'media'));
    expect(playlists.length).toBe(5); // source, 360p and audio; source and audio
    for (const file of playlists) expect(parseMediaPlaylist(fs.readFileSync(file, 'utf8')).endList).toBe(true);
    const sessions = await sessionsTable();
    expect(sessions).toHaveLength(2);
    for (const session of sessions) expect(session).toMatchObject({ state: 'ended', end_reason: 'shutdown' });
    expect(ffmpegProcessesMentioning(dir)).toEqual([]);
  });

  test('Ctrl-C in a terminal (SIGINT to the whole process group) with delivery processes and a live stream: a clean stop, no error logged', async () => {
    const server = start({ HTTP_DELIVERY_PROCESSES: '2', LOG_LEVEL: 'debug' }, { processGroup: true });
    const url = await server.httpUrl();
    const rtmpPort = Number(/"rtmp":"rtmp:\/\/[^:]+:(\d+)\//.exec(server.stdout())![1]);
    await goLive(url, rtmpPort, 'interrupted');
    await waitFor(
      () =>
        server
          .stdout()
          .split('\n')
          .filter((line) => line.includes('"msg":"delivery process accepting"')).length === 2,
      {
        what: 'the delivery processes to accept connections',
        timeoutMs: 10_000,
      },
    );

    process.kill(-server.child.pid!, 'SIGINT');
    const exit = await server.exited;
    const errors = server
      .stdout()
      .split('\n')
      .filter((line) => /"level":"(error|fatal)"/.test(line));
    expect(errors).toEqual([]);
    expect(server.stderr()).toBe('');
    expect(exit).toEqual({ code: 0, signal: null });
    expect((await sessionsTable())[0]).toMatchObject({ state: 'ended', end_reason: 'shutdown' });
  });

  /** An ffmpeg that answers the start's check only once the gate is opened: it holds the start until then. */
  const gatedFfmpeg = () => {
    const gate = path.join(dir, 'gate');
    const file = path.join(dir, 'gated-ffmpeg');
    fs.writeFileSync(file, `#!/bin/sh\nwhile [ ! -e '${gate}' ]; do sleep 0.05; done\nexec ffmpeg "$@"\n`, { mode: 0o755 });
    return { file, open: () => fs.writeFileSync(gate, '') };
  };
  // tsx's loader catches SIGTERM and SIGINT early and re-raises them while the program has no
  // handler of its own; SIGHUP is the last the origin takes, so once it is caught, they are the origin's.
  const takingSignals = (server: ServerProcess) => waitFor(() => server.catches('SIGHUP'), { what: 'the server to take signals', timeoutMs: 30_000 });

  test('a signal that comes while the origin starts is acted on once it has started', async () => {
    const ffmpeg = gatedFfmpeg();
    const server = start({ FFMPEG_PATH: ffmpeg.file });
    await takingSignals(server);
    server.child.kill('SIGTERM');
    ffmpeg.open();
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toMatch(/"msg":"shutting down"[^]*"msg":"origin listening"[^]*"msg":"origin stopped"/);
  });

  test('Ctrl-C while the origin starts stops it quietly, though it reaches the ffmpeg the start runs too', async () => {
    const ffmpeg = gatedFfmpeg();
    const server = start({ FFMPEG_PATH: ffmpeg.file }, { processGroup: true });
    await takingSignals(server);
    process.kill(-server.child.pid!, 'SIGINT');
    // Had the check not begun yet, it passes, and the origin stops once started.
    ffmpeg.open();
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toBe('');
    expect(server.stdout()).not.toMatch(/"level":"(error|fatal)"/);
  });

  test('a second signal during a slow shutdown exits at once', async () => {
    const server = start();
    const url = await server.httpUrl();
    const rtmpPort = Number(/"rtmp":"rtmp:\/\/[^:]+:(\d+)\//.exec(server.stdout())![1]);
    await goLive(url, rtmpPort, 'impatient');
    // A transcoder that does not react to SIGINT makes the shutdown wait for its SIGKILL.
    const [transcoder] = ffmpegProcessesMentioning(dir);
    process.kill(transcoder!, 'SIGSTOP');
    try {
      server.child.kill('SIGTERM');
      await waitFor(() => server.stdout().includes('"msg":"shutting down"'), { what: 'the shutdown to begin', timeoutMs: 5000 });
      await sleep(300);
      expect(server.child.exitCode).toBeNull();
      const second = Date.now();
      server.child.kill('SIGINT');
      const exit = await server.exited;
      expect(Date.now() - second).toBeLessThan(1000);
      expect(exit.code).toBe(1);
      expect(server.stdout()).toContain('second signal: exiting now');
    } finally {
      process.kill(transcoder!, 'SIGKILL');
    }
  });

  test('a crash (SIGKILL): ffmpeg goes with it; the next start closes the session as crashed and cleans its files', async () => {
    const first = start();
    const url = await first.httpUrl();
    const rtmpPort = Number(/"rtmp":"rtmp:\/\/[^:]+:(\d+)\//.exec(first.stdout())![1]);
    const stream = await goLive(url, rtmpPort, 'doomed');
    first.child.kill('SIGKILL');
    await first.exited;
    // Its stdin closed with its parent: the transcoder finishes and exits on its own.
    await waitFor(() => ffmpegProcessesMentioning(dir).length === 0, { what: 'the orphaned ffmpeg to exit', timeoutMs: 10_000 });
    await stopAllProcesses();

    const second = start();
    await second.httpUrl();
    const sessions = await sessionsTable();
    expect(sessions).toEqual([expect.objectContaining({ state: 'ended', end_reason: 'crashed' })]);
    expect(fs.existsSync(path.join(dir, 'media', 'live', stream.playbackId, 'sessions', sessions[0].id))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'media', 'live', stream.playbackId, 'master.m3u8'))).toBe(false);
    expect(second.stdout()).toContain('closed a session left open by a crash');
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});
