import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type DeepPartial } from '../../src/config/load';
import type { Config, RawConfig } from '../../src/config/schema';
import { createLogger } from '../../src/observability/logger';
import { startOrigin, type Origin } from '../../src/app/origin';
import { generateApiToken } from '../../src/streams/keys';
import { createTestDatabase, type DatabaseKind } from './database';
import { HlsClient } from './hls';
import { stopAllProcesses } from './processes';

export const repoRoot = path.resolve(__dirname, '..', '..');

export interface TestOrigin extends Origin {
  dir: string;
  config: Config;
  adminToken: string;
  /** Every log line the origin wrote, as parsed JSON. */
  logs: Array<Record<string, unknown>>;
  /** The raw log text, for searching for secrets. */
  logText(): string;
  api(method: string, urlPath: string, options?: { token?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse>;
  rtmpUrl(streamKey: string): string;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface TestOriginOptions {
  database?: DatabaseKind;
  overrides?: DeepPartial<RawConfig>;
  /** Reuse a folder (and its SQLite database) from an earlier origin. */
  dir?: string;
  /** Another node of a cluster: this database, made and dropped by the caller. */
  sharedDatabaseUrl?: string;
}

/** An origin on random loopback ports, with its own folder and database; close() removes both. */
export async function startTestOrigin(options: TestOriginOptions = {}): Promise<TestOrigin> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'origin-test-'));
  const database = options.sharedDatabaseUrl ? { url: options.sharedDatabaseUrl, drop: async () => undefined } : await createTestDatabase(options.database ?? 'sqlite', dir);
  const adminToken = generateApiToken();
  const config = loadConfig({
    env: { NODE_ENV: 'test' },
    configDir: path.join(repoRoot, 'config'),
    cwd: dir,
    overrides: {
      host: '127.0.0.1',
      httpPort: 0,
      rtmpPort: 0,
      databaseUrl: database.url,
      mediaDir: path.join(dir, 'media'),
      adminToken,
      logLevel: 'debug',
      ...options.overrides,
    },
  });
  let text = '';
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = chunk.toString();
      text += line;
      for (const part of line.split('\n')) {
        if (part.trim()) logs.push(JSON.parse(part) as Record<string, unknown>);
      }
      if (process.env.ORIGIN_TEST_LOGS) process.stderr.write(line);
      done();
    },
  });
  const logger = createLogger({ level: config.logLevel, format: 'json', destination: sink });
  const origin = await startOrigin({ config, logger, assetsDir: path.join(repoRoot, 'dist', 'player') });

  const api: TestOrigin['api'] = async (method, urlPath, apiOptions = {}) => {
    const headers: Record<string, string> = { ...apiOptions.headers };
    const token = apiOptions.token === undefined ? adminToken : apiOptions.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (apiOptions.body !== undefined) {
      body = typeof apiOptions.body === 'string' ? apiOptions.body : JSON.stringify(apiOptions.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${origin.urls.publicUrl}${urlPath}`, { method, headers, ...(body !== undefined && { body }) });
    const responseText = await response.text();
    let parsed: unknown;
    try {
      parsed = responseText ? JSON.parse(responseText) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text: responseText };
  };

  let closed = false;
  return Object.assign(origin, {
    dir,
    config,
    adminToken,
    logs,
    logText: () => text,
    api,
    rtmpUrl: (streamKey: string) => `rtmp://127.0.0.1:${origin.rtmpPort}/live/${streamKey}`,
    close: async () => {
      if (closed) return;
      closed = true;
      await origin.stop();
      await database.drop();
      if (!options.dir && !process.env.KEEP_TEST_DIRS) fs.rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** Creates a stream through the API and returns its JSON (with the key). */
export async function createStream(
  origin: TestOrigin,
  name = 'Test stream',
  settings: Record<string, unknown> = {},
): Promise<{ id: string; playbackId: string; streamKey: string; [key: string]: unknown }> {
  const response = await origin.api('POST', '/api/v1/streams', { body: { name, ...settings } });
  if (response.status !== 201) throw new Error(`stream creation failed: ${response.status} ${response.text}`);
  return response.body;
}

/**
 * For a describe block: an origin started before its tests and closed after them, with an HLS
 * client; every process a test started is stopped after that test.
 */
export function useTestOrigin(options: TestOriginOptions = {}): { origin: TestOrigin; hls: HlsClient } {
  const context = {} as { origin: TestOrigin; hls: HlsClient };
  beforeAll(async () => {
    context.origin = await startTestOrigin(options);
    context.hls = new HlsClient(context.origin.urls.publicUrl);
  });
  afterEach(() => stopAllProcesses());
  afterAll(() => context.origin?.close());
  return context;
}
