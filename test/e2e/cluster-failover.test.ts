import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCacheTier, type CacheTier } from '../../scripts/lib/cache-tier';
import { freePort } from '../../scripts/lib/ports';
import { artifactPath, useBrowser } from '../support/browser';
import { createTestDatabase, mysqlUrl, type TestDatabase } from '../support/database';
import { openPlayer } from '../support/player-page';
import { startPublisher, stopAllProcesses } from '../support/processes';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

const ADMIN_TOKEN = 'cluster-e2e-admin-token-0123456789';

/** The player page through the shipped cache, in front of two origins on MySQL; the owner dies. */
(mysqlUrl ? describe : describe.skip)('a viewer behind the cache when the node with the stream dies [mysql]', () => {
  const chromium = useBrowser();
  let database: TestDatabase;
  let dir: string;
  let cache: CacheTier;
  const nodes: Array<{ process: ServerProcess; rtmpPort: number }> = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-cluster-e2e-'));
    database = await createTestDatabase('mysql', dir);
    const ports = await Promise.all([1, 2].map(async () => ({ httpPort: await freePort(), rtmpPort: await freePort() })));
    cache = await startCacheTier(ports.map((p) => p.httpPort));
    for (const [i, { httpPort, rtmpPort }] of ports.entries()) {
      const process = startServerProcess({
        DATABASE_URL: database.url,
        MEDIA_DIR: path.join(dir, `node-${i + 1}`),
        NODE_ID: `node-${i + 1}`,
        NODE_URL: `http://127.0.0.1:${httpPort}`,
        CLUSTER_SECRET: 'cluster-e2e-secret-0123456789',
        ADMIN_TOKEN,
        PUBLIC_URL: cache.url,
        HTTP_PORT: String(httpPort),
        RTMP_PORT: String(rtmpPort),
        HTTP_DELIVERY_PROCESSES: '0',
      });
      nodes.push({ process, rtmpPort });
    }
    for (const node of nodes) await node.process.httpUrl();
    await waitFor(async () => (await fetch(`${cache.url}/healthz`)).status === 200, { what: 'the cache to reach the nodes' });
  });
  afterAll(async () => {
    await stopAllProcesses();
    for (const node of nodes) node.process.kill();
    await Promise.all(nodes.map((node) => node.process.exited));
    await cache?.stop();
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the page plays again by itself once the publisher is back on the other node: no reload, the same playlists', async () => {
    const created = await fetch(`${cache.url}/api/v1/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Survives a node', profile: 'passthrough' }),
    });
    const stream = (await created.json()) as { playbackId: string; streamKey: string };
    const [owner, survivor] = nodes as [(typeof nodes)[number], (typeof nodes)[number]];
    startPublisher({ url: `rtmp://127.0.0.1:${owner.rtmpPort}/live/${stream.streamKey}`, width: 640, height: 360 });

    const player = await openPlayer(chromium.browser, `${cache.url}/watch/${stream.playbackId}`);
    const { page } = player;
    const documents: string[] = [];
    const playlists = new Set<string>();
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (request.resourceType() === 'document') documents.push(url.pathname);
      if (url.pathname.endsWith('.m3u8')) playlists.add(url.pathname);
    });
    // What the page got after the kill, for the failure message: otherwise a stall leaves only a screenshot.
    let killedAt: number | undefined;
    const answers: string[] = [];
    page.on('response', (response) => {
      if (killedAt === undefined) return;
      const url = new URL(response.url());
      answers.push(`${Date.now() - killedAt} ms ${response.status()} ${url.pathname.split('/').slice(-2).join('/')}${url.search.replace(/vsid=\w+&?/, '').replace(/\?$/, '')}`);
    });
    await page.waitForFunction(() => document.querySelector('video')!.currentTime > 3, undefined, { timeout: 60_000 });
    const before = new Set(playlists);

    owner.process.kill();
    killedAt = Date.now();
    await stopAllProcesses();
    const atKill = await player.currentTime();
    // The publisher reconnects, to the node that is left; refused while the dead node's lease lives.
    let publisher = startPublisher({ url: `rtmp://127.0.0.1:${survivor.rtmpPort}/live/${stream.streamKey}`, width: 640, height: 360 });
    const retry = setInterval(() => {
      if (publisher.child.exitCode !== null) publisher = startPublisher({ url: `rtmp://127.0.0.1:${survivor.rtmpPort}/live/${stream.streamKey}`, width: 640, height: 360 });
    }, 250);
    try {
      // Well past what was buffered at the kill: media from the surviving node is playing.
      await page.waitForFunction((from) => document.querySelector('video')!.currentTime > from + 10, atKill, { timeout: 90_000 });
    } catch (error) {
      const states = await player.states();
      throw new Error(`${(error as Error).message}\nthe player went through: ${states.join(' → ')}\nits last answers after the kill:\n${answers.slice(-30).join('\n')}`);
    } finally {
      clearInterval(retry);
      await page.screenshot({ path: artifactPath('cluster-failover.png') });
    }
    expect(documents).toEqual([]);
    // The same session's playlists: the surviving node continued it.
    expect([...playlists].filter((p) => !before.has(p) && !p.endsWith('/master.m3u8'))).toEqual([]);
    await player.close();
  });
});
