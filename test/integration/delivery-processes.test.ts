import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseMediaPlaylist } from '../../scripts/lib/media-playlist';
import { mainThreadWakeups } from '../../scripts/lib/proc';
import { metricValue, scrape, withoutNodeLabel } from '../support/metrics';
import { processesWhose, startPublisher } from '../support/processes';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { sleep } from '../support/wait';

jest.setTimeout(60_000);

const ADMIN_TOKEN = 'delivery-test-admin-token-0123456789';
const PLAYBACK_ID = 'AbCdEfGhIjKlMnOpQrSt';
const SESSION_ID = 'AbCdEfGhIjKlMnOp';
const PLAYLIST = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.000,\nseg_0.m4s\n';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request on a connection of its own: whichever process accepts it answers it. */
function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const settledWithin = (promise: Promise<unknown>, ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([promise.then(() => true), late]).finally(() => clearTimeout(timer));
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('delivery processes (http.deliveryProcesses)', () => {
  let dir: string;
  let server: ServerProcess;
  let url: string;

  /** The delivery processes' pids, from their "accepting" log lines. */
  const deliveryPids = () =>
    server
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"msg":"delivery process accepting"'))
      .map((line) => (JSON.parse(line) as { delivery: number }).delivery);

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-delivery-'));
    const rendition = path.join(dir, 'media', 'live', PLAYBACK_ID, 'sessions', SESSION_ID, 'source');
    fs.mkdirSync(rendition, { recursive: true });
    fs.writeFileSync(path.join(rendition, 'index.m3u8'), PLAYLIST);
    fs.writeFileSync(path.join(rendition, 'seg_0.m4s'), Buffer.alloc(188 * 100, 0x47));
    server = startServerProcess({
      DATABASE_URL: `sqlite:${dir}/origin.db`,
      MEDIA_DIR: `${dir}/media`,
      ADMIN_TOKEN,
      LOG_LEVEL: 'debug',
      HTTP_DELIVERY_PROCESSES: '1',
    });
    url = await server.httpUrl();
    await until('the delivery process', () => deliveryPids()[0]);
  });

  afterEach(async () => {
    const pid = server.child.pid;
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGCONT');
    const pids = deliveryPids();
    server.kill();
    await server.exited;
    // Killed outright, the origin leaves its delivery processes to notice and exit on their own.
    await until('the delivery processes to exit', () => (pids.some(alive) ? undefined : true));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('while the origin is stopped, the delivery process answers HLS files; what it forwards is answered once the origin runs; viewers and metrics reach the origin', async () => {
    const originPid = server.child.pid!;
    const playlistUrl = `${url}/hls/${PLAYBACK_ID}/sessions/${SESSION_ID}/source/index.m3u8`;
    process.kill(originPid, 'SIGSTOP');
    try {
      for (const viewer of ['viewer-one', 'viewer-two', 'viewer-three']) {
        const answer = await request(`${playlistUrl}?vsid=${viewer}`);
        expect(answer.status).toBe(200);
        expect(answer.body).toBe(PLAYLIST);
        expect(answer.headers['content-type']).toBe('application/vnd.apple.mpegurl');
        expect(answer.headers['access-control-allow-origin']).toBe('*');
      }
      const segment = await request(`${url}/hls/${PLAYBACK_ID}/sessions/${SESSION_ID}/source/seg_0.m4s`);
      expect([segment.status, segment.body.length]).toEqual([200, 188 * 100]);
      expect((await request(`${url}/hls/${PLAYBACK_ID}/sessions/${SESSION_ID}/source/nothing.m4s`)).status).toBe(404);

      // Not HLS: forwarded to the origin, which cannot answer while stopped.
      const created = request(`${url}/api/v1/streams`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Through a delivery process' }),
      });
      // As many wrong tokens as it takes (default config) to have the client's address refused.
      const refused = Array.from({ length: 20 }, () => request(`${url}/api/v1/streams`, { headers: { authorization: 'Bearer wrong-token-0123456789' } }));
      expect(await settledWithin(created, 500)).toBe(false);
      process.kill(originPid, 'SIGCONT');
      const answer = await created;
      expect(answer.status).toBe(201);
      expect(answer.headers['x-request-id']).toBeTruthy();
      expect(JSON.parse(answer.body)).toMatchObject({ name: 'Through a delivery process' });
      const [first] = await Promise.all(refused);
      expect(first!.status).toBe(401);
      expect(JSON.parse(first!.body)).toMatchObject({ error: { code: 'unauthorized' } });
    } finally {
      process.kill(originPid, 'SIGCONT');
    }

    // Half a second after a request the delivery process reports what it served.
    const metrics = await until('the delivery process report', async () => {
      const text = withoutNodeLabel((await request(`${url}/metrics`)).body);
      return /origin_viewers\{playback_id="AbCdEfGhIjKlMnOpQrSt"\} 3/.test(text) ? text : undefined;
    });
    expect(Number(/origin_hls_requests_total\{kind="playlist",status="200"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    expect(Number(/origin_hls_requests_total\{kind="segment",status="404"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/origin_hls_bytes_total\{kind="segment"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(188 * 100);
    // The wrong tokens counted against the client's address, not the delivery process's socket.
    expect(server.stdout()).toMatch(/"client":"127\.0\.0\.1","msg":"too many failed authentications/);
    expect(server.stdout()).not.toMatch(/"msg":"cannot forward/);
  });

  test("a signed stream's files are refused by the delivery process without a valid token, and served with the token written into the playlist", async () => {
    const api = async (method: string, apiPath: string, body: unknown) => {
      const answer = await request(`${url}${apiPath}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return JSON.parse(answer.body);
    };
    const stream = await api('POST', '/api/v1/streams', { name: 'Signed', playback: 'signed' });
    const { token } = await api('POST', `/api/v1/streams/${stream.id}/playback-tokens`, { expiresInSeconds: 600 });
    const { token: otherToken } = await api('POST', `/api/v1/streams/${stream.id}/playback-tokens`, { expiresInSeconds: 600 });
    const rendition = path.join(dir, 'media', 'live', stream.playbackId, 'sessions', SESSION_ID, 'source');
    fs.mkdirSync(rendition, { recursive: true });
    fs.writeFileSync(path.join(rendition, 'index.m3u8'), PLAYLIST);
    fs.writeFileSync(path.join(rendition, 'seg_0.m4s'), Buffer.alloc(188 * 10, 0x47));
    const base = `${url}/hls/${stream.playbackId}/sessions/${SESSION_ID}/source`;
    const originPid = server.child.pid!;
    // Only the delivery process answers now.
    process.kill(originPid, 'SIGSTOP');
    try {
      for (const file of ['index.m3u8', 'seg_0.m4s']) {
        const refused = await request(`${base}/${file}`);
        expect([file, refused.status, JSON.parse(refused.body).error.code]).toEqual([file, 403, 'token_required']);
        expect((await request(`${base}/${file}?token=${token.slice(0, -3)}abc`)).status).toBe(403);
        expect((await request(`${base}/${file}?token=${token}`)).status).toBe(200);
      }
      // Each viewer's playlist names its own token.
      expect((await request(`${base}/index.m3u8?token=${token}`)).body).toContain(`seg_0.m4s?token=${token}`);
      expect((await request(`${base}/index.m3u8?token=${otherToken}`)).body).toContain(`seg_0.m4s?token=${otherToken}`);
    } finally {
      process.kill(originPid, 'SIGCONT');
    }
  });

  test('a delivery process nobody asks anything of sleeps: no report timer, no unchanged access snapshot', async () => {
    const pid = deliveryPids()[0]!;
    // Past start-up, including V8's memory reducer, which collects some 8 s after it.
    await sleep(10_000);
    // Seconds in which it did not wake at all. Woken twice a second by a report timer there would be
    // none; a late collection (under load) may still take a few.
    let quiet = 0;
    for (let second = 0, last = mainThreadWakeups(pid); second < 12; second++) {
      await sleep(1000);
      const now = mainThreadWakeups(pid);
      if (now === last) quiet++;
      last = now;
    }
    expect(quiet).toBeGreaterThanOrEqual(6);
  });

  test('a delivery process that dies is replaced; SIGTERM stops the new one with the origin', async () => {
    const [first] = deliveryPids();
    process.kill(first!, 'SIGKILL');
    const second = await until('a new delivery process', () => deliveryPids().find((pid) => pid !== first));
    expect(server.stdout()).toContain('"msg":"delivery process exited; starting another"');
    expect(alive(second)).toBe(true);
    expect((await request(`${url}/hls/${PLAYBACK_ID}/sessions/${SESSION_ID}/source/index.m3u8`)).status).toBe(200);

    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(alive(second)).toBe(false);
  });
});

describe('an origin killed while its delivery process is still starting', () => {
  test('leaves no delivery process behind', async () => {
    await withServerIn(
      'origin-delivery-early-',
      () => ({}),
      async (server, dir) => {
        // Killed as soon as the delivery process exists: it is still loading its modules, and may
        // miss the disconnect that tells it the origin is gone.
        const pid = await until('the delivery process to be started', () => deliveryProcessesMentioning(dir)[0], 30_000);
        server.kill();
        await server.exited;
        await until('the delivery process to exit', () => (alive(pid) ? undefined : true));
      },
    );
  });
});

const deliveryProcessesMentioning = (needle: string) => processesWhose((_argv, cmdline) => cmdline.includes('delivery-process') && cmdline.includes(needle));

describe('a delivery process whose modules load slowly', () => {
  test('takes the listening socket only once its server can: every connection meanwhile is answered', async () => {
    // A module hook that makes the delivery process's own module take 3 s to load, as a loaded
    // machine can: its event loop runs meanwhile, and Node starts accepting on a server handle as
    // soon as one arrives, before the module's server is there to answer.
    const slowLoading = (dir: string) => {
      fs.writeFileSync(
        path.join(dir, 'slow-hooks.mjs'),
        'export async function load(url, context, next) {\n  if (/delivery-process\\.ts$/.test(url)) await new Promise((resolve) => setTimeout(resolve, 3000));\n  return next(url, context);\n}\n',
      );
      fs.writeFileSync(path.join(dir, 'slow-register.mjs'), "import { register } from 'node:module';\nregister('./slow-hooks.mjs', import.meta.url);\n");
      return { LOG_LEVEL: 'debug', NODE_OPTIONS: `--import ${pathToFileURL(path.join(dir, 'slow-register.mjs')).href}` };
    };
    await withServerIn('origin-delivery-slow-', slowLoading, async (server) => {
      const url = await server.httpUrl();
      // A request on a connection of its own every 50 ms, until the delivery process accepts and a while after.
      const requests: Array<Promise<boolean>> = [];
      const accepting = () => server.stdout().includes('"msg":"delivery process accepting"');
      const deadline = Date.now() + 30_000;
      let after = 0;
      while (after < 20 && Date.now() < deadline) {
        requests.push(settledWithin(request(`${url}/healthz`), 5000));
        if (accepting()) after += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(accepting()).toBe(true);
      const answered = await Promise.all(requests);
      expect(answered.filter((ok) => !ok)).toHaveLength(0);
      expect(answered.length).toBeGreaterThan(40);
    });
  });
});

/** A server process with one delivery process in a folder of its own, with `env` added; killed and removed afterwards, with any delivery process left. */
async function withServerIn(prefix: string, env: (dir: string) => Record<string, string>, work: (server: ServerProcess, dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const server = startServerProcess({ DATABASE_URL: `sqlite:${dir}/origin.db`, MEDIA_DIR: `${dir}/media`, ADMIN_TOKEN, HTTP_DELIVERY_PROCESSES: '1', ...env(dir) });
  try {
    await work(server, dir);
  } finally {
    server.kill();
    await server.exited;
    for (const pid of deliveryProcessesMentioning(dir)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('a delivery process and a live low-latency stream', () => {
  test('it answers live playlists, parts and held requests from its copy of the catalog, also while the origin itself is stopped', async () => {
    await withServerIn(
      'origin-delivery-live-',
      () => ({ LOG_LEVEL: 'debug' }),
      async (server) => {
        const url = await server.httpUrl();
        await until('the delivery process', () => (server.stdout().includes('"msg":"delivery process accepting"') ? true : undefined), 30_000);
        const created = await request(`${url}/api/v1/streams`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Live through a delivery process', profile: 'passthrough' }),
        });
        const stream = JSON.parse(created.body) as { id: string; playbackId: string; streamKey: string; ingestUrl: string };
        const publisher = startPublisher({ url: `${stream.ingestUrl}/${stream.streamKey}`, width: 640, height: 360 });
        try {
          const master = await until(
            'the master',
            async () => {
              const answer = await request(`${url}/hls/${stream.playbackId}/master.m3u8`);
              return answer.status === 200 ? answer.body : undefined;
            },
            30_000,
          );
          const playlistUrl = `${url}/hls/${stream.playbackId}/${master.split('\n').find((line) => line.endsWith('index.m3u8'))!}`;
          await until('a few parts', async () => ((await request(playlistUrl)).body.match(/EXT-X-PART:/g)?.length ?? 0) >= 6 || undefined);

          process.kill(server.child.pid!, 'SIGSTOP');
          try {
            // Only the delivery process can answer now.
            const live = await request(playlistUrl);
            expect(live.status).toBe(200);
            expect(live.body).toContain('#EXT-X-PART:');
            const parsed = parseMediaPlaylist(live.body);
            const part = parsed.partial?.parts.at(-1) ?? parsed.segments.at(-1)!.parts.at(-1)!;
            const bytes = await request(new URL(part.uri, playlistUrl).toString());
            expect(bytes.status).toBe(200);
            expect(bytes.headers['content-type']).toBe('video/iso.segment');
            // The next part does not come while the origin is stopped: the request is held ...
            const hint = /seg_(\d+)\.(\d+)\.m4s/.exec(parsed.hint!)!;
            const held = request(`${playlistUrl}?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}`);
            expect(await settledWithin(held, 700)).toBe(false);
            process.kill(server.child.pid!, 'SIGCONT');
            // ... and answered once the origin packages it and tells the delivery process.
            const answer = await held;
            expect(answer.status).toBe(200);
            expect(answer.body).toContain(`seg_${hint[1]}.${hint[2]}.m4s"`);
          } finally {
            process.kill(server.child.pid!, 'SIGCONT');
          }
          // The delivery process held that request, and reports how it ended to the origin's metrics.
          await until(
            "the delivery process's held request in the metrics",
            async () => (metricValue(await scrape(url), 'origin_hls_holds_total{outcome="ready"}') ?? 0) >= 1 || undefined,
          );
        } finally {
          await publisher.stop();
        }
      },
    );
  });
});
