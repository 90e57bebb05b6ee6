// 6. Publish authorization: the time from sending the publish command to the server's answer
// (the key check against the database), against SQLite and against MySQL.
import knex from 'knex';
import { commandMessage, RtmpTestClient } from '../lib/rtmp-client';
import { parseDatabaseUrl } from '../../src/db/database-url';
import { randomBase62 } from '../../src/streams/keys';
import { withOrigin } from './lib/bench-env';
import { percentile, sleep, summarize, type Summary } from './lib/stats';

const PUBLISHES = 500;

export interface AuthorizationResult {
  sqlite: { ms: Summary; p99: number };
  mysql?: { ms: Summary; p99: number };
}

async function timePublishes(databaseUrl: string | undefined): Promise<number[]> {
  return withOrigin({ NODE_ENV: 'bench', ...(databaseUrl && { DATABASE_URL: databaseUrl }) }, async (origin) => {
    const stream = await origin.api('POST', '/api/v1/streams', { name: 'authorization' });
    const rtmpPort = Number(new URL(origin.rtmpUrl.replace(/^rtmp/, 'http')).port);
    const times: number[] = [];
    for (let i = 0; i < PUBLISHES; i++) {
      const client = await RtmpTestClient.connect(rtmpPort);
      await client.handshake();
      client.send(commandMessage('connect', 1, { app: 'live', type: 'nonprivate', tcUrl: `rtmp://127.0.0.1:${rtmpPort}/live` }));
      client.send(commandMessage('createStream', 2, null));
      await sleep(5);
      const sent = process.hrtime.bigint();
      client.send(commandMessage('publish', 3, null, stream.streamKey, 'live'));
      const status = await client.nextStatus();
      const elapsed = Number(process.hrtime.bigint() - sent) / 1e6;
      client.close();
      if (status?.code !== 'NetStream.Publish.Start') throw new Error(`publish ${i} was answered ${JSON.stringify(status)}`);
      times.push(elapsed);
    }
    return times;
  });
}

/** A fresh MySQL database next to the one `url` names, dropped afterwards. */
async function withMysql<T>(url: string, work: (databaseUrl: string) => Promise<T>): Promise<T> {
  const target = parseDatabaseUrl(url);
  if (target.client !== 'mysql') throw new Error('the MySQL URL must be mysql://');
  const admin = knex({ client: 'mysql2', connection: { host: target.host, port: target.port, user: target.user, password: target.password } });
  const name = `${target.database}_bench_${randomBase62(6).toLowerCase()}`;
  await admin.raw('CREATE DATABASE ??', [name]);
  try {
    const databaseUrl = new URL(url);
    databaseUrl.pathname = `/${name}`;
    return await work(databaseUrl.toString());
  } finally {
    await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
    await admin.destroy();
  }
}

export async function measureAuthorization(mysqlUrl: string | undefined): Promise<AuthorizationResult> {
  const sqlite = await timePublishes(undefined);
  const result: AuthorizationResult = { sqlite: { ms: summarize(sqlite), p99: percentile(sqlite, 99) } };
  if (mysqlUrl) {
    const mysql = await withMysql(mysqlUrl, (url) => timePublishes(url));
    result.mysql = { ms: summarize(mysql), p99: percentile(mysql, 99) };
  }
  return result;
}
