import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema, type Config, type RawConfig } from './schema';
import { resolveDatabaseUrl } from '../db/database-url';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Json = Record<string, unknown>;

export interface LoadConfigOptions {
  env: NodeJS.ProcessEnv;
  /** Folder holding default.json and <NODE_ENV>.json. */
  configDir: string;
  /** Relative paths (media folder, SQLite file) are resolved against this folder. */
  cwd: string;
  /** Applied last; used by tests and tools that build a config in code. */
  overrides?: DeepPartial<RawConfig>;
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Environment variables are a contract with operators (architecture.md); keep names stable. */
const ENV_VARS: Record<string, { key: keyof RawConfig; type: 'string' | 'port' }> = {
  HOST: { key: 'host', type: 'string' },
  HTTP_PORT: { key: 'httpPort', type: 'port' },
  RTMP_PORT: { key: 'rtmpPort', type: 'port' },
  RTMPS_PORT: { key: 'rtmpsPort', type: 'port' },
  PUBLIC_URL: { key: 'publicUrl', type: 'string' },
  DATABASE_URL: { key: 'databaseUrl', type: 'string' },
  MEDIA_DIR: { key: 'mediaDir', type: 'string' },
  ADMIN_TOKEN: { key: 'adminToken', type: 'string' },
  FFMPEG_PATH: { key: 'ffmpegPath', type: 'string' },
  LOG_LEVEL: { key: 'logLevel', type: 'string' },
  LOG_FORMAT: { key: 'logFormat', type: 'string' },
  NODE_ID: { key: 'nodeId', type: 'string' },
  NODE_URL: { key: 'nodeUrl', type: 'string' },
  CLUSTER_SECRET: { key: 'clusterSecret', type: 'string' },
  REDIS_URL: { key: 'redisUrl', type: 'string' },
};

/** Settings below the top level that operators commonly set from the environment. */
const NESTED_ENV_VARS: Record<string, { path: [string, string]; type: 'string' | 'count' | 'countOrAuto' | 'boolean' }> = {
  METRICS_TOKEN: { path: ['metrics', 'token'], type: 'string' },
  RTMP_PROXY_PROTOCOL: { path: ['ingest', 'proxyProtocol'], type: 'boolean' },
  TLS_CERT_FILE: { path: ['ingest', 'tlsCertFile'], type: 'string' },
  TLS_KEY_FILE: { path: ['ingest', 'tlsKeyFile'], type: 'string' },
  RTMPS_REQUIRED: { path: ['ingest', 'tlsRequired'], type: 'boolean' },
  HTTP_DELIVERY_PROCESSES: { path: ['http', 'deliveryProcesses'], type: 'countOrAuto' },
};

/**
 * One delivery process per core beyond the first, as nginx runs a worker per core, but no more
 * than three: past that the network, not the cores, limits what they serve (docs/benchmarks.md
 * has the figures), and each process holds its own file cache.
 */
export function autoDeliveryProcesses(cores: number): number {
  return Math.min(3, Math.max(0, cores - 1));
}

export function loadConfig(options: LoadConfigOptions): Config {
  const layers: Json[] = [readJson(path.join(options.configDir, 'default.json'), true)];
  const nodeEnv = options.env.NODE_ENV;
  if (nodeEnv) {
    if (!/^[a-z0-9_-]+$/i.test(nodeEnv)) throw new ConfigError(`NODE_ENV has unexpected characters: ${nodeEnv}`);
    layers.push(readJson(path.join(options.configDir, `${nodeEnv}.json`), false));
  }
  layers.push(envLayer(options.env));
  if (options.overrides) layers.push(options.overrides as Json);

  const parsed = configSchema.safeParse(layers.reduce(deepMerge, {}));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${describePath(issue.path)}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return resolve(parsed.data, options.cwd);
}

function resolve(raw: RawConfig, cwd: string): Config {
  const { tlsCertFile, tlsKeyFile, tlsRequired } = raw.ingest;
  if (raw.rtmpsPort !== undefined && (!tlsCertFile || !tlsKeyFile))
    throw new ConfigError('RTMPS_PORT needs TLS_CERT_FILE and TLS_KEY_FILE (ingest.tlsCertFile, ingest.tlsKeyFile)');
  if (tlsRequired && raw.rtmpsPort === undefined) throw new ConfigError('RTMPS_REQUIRED (ingest.tlsRequired) needs RTMPS_PORT');
  return {
    ...raw,
    ingest: {
      ...raw.ingest,
      ...(tlsCertFile && { tlsCertFile: path.resolve(cwd, tlsCertFile) }),
      ...(tlsKeyFile && { tlsKeyFile: path.resolve(cwd, tlsKeyFile) }),
    },
    ...(raw.publicUrl !== undefined && { publicUrl: raw.publicUrl.replace(/\/+$/, '') }),
    http: { ...raw.http, deliveryProcesses: raw.http.deliveryProcesses === 'auto' ? autoDeliveryProcesses(os.availableParallelism()) : raw.http.deliveryProcesses },
    mediaDir: path.resolve(cwd, raw.mediaDir),
    databaseUrl: resolveDatabaseUrl(raw.databaseUrl, cwd),
    nodeId: raw.nodeId ?? os.hostname(),
  };
}

export interface PublicUrls {
  /** Base of every HTTP URL handed out (player, HLS). */
  publicUrl: string;
  /** What a streamer types into OBS as "Server". */
  rtmpPublicUrl: string;
  /** The same over TLS, when there is an RTMPS listener. */
  rtmpsPublicUrl?: string;
}

/** URLs as clients should use them; known once the listeners are bound (ports may be 0 in tests). */
export function publicUrls(config: Config, ports: { http: number; rtmp: number; rtmps?: number }): PublicUrls {
  const bindHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const publicUrl = config.publicUrl ?? `http://${bindHost.includes(':') ? `[${bindHost}]` : bindHost}:${ports.http}`;
  const hostname = new URL(publicUrl).hostname;
  return {
    publicUrl,
    rtmpPublicUrl: `rtmp://${hostname}:${ports.rtmp}/${config.ingest.app}`,
    ...(ports.rtmps !== undefined && { rtmpsPublicUrl: `rtmps://${hostname}:${ports.rtmps}/${config.ingest.app}` }),
  };
}

function envLayer(env: NodeJS.ProcessEnv): Json {
  const layer: Json = {};
  for (const [
    name,
    {
      path: [section, key],
      type,
    },
  ] of Object.entries(NESTED_ENV_VARS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    layer[section] = { ...(layer[section] as Json | undefined), [key]: envValue(name, value, type) };
  }
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value !== undefined && value !== '') layer[spec.key] = envValue(name, value, spec.type);
  }
  return layer;
}

const NUMBER_KINDS = { port: 'a port number', count: 'a whole number', countOrAuto: 'a whole number or auto' } as const;

function envValue(name: string, value: string, type: 'string' | 'boolean' | keyof typeof NUMBER_KINDS): string | number | boolean {
  if (type === 'boolean') {
    if (value !== 'true' && value !== 'false') throw new ConfigError(`${name} must be true or false, got "${value}"`);
    return value === 'true';
  }
  if (type === 'string' || (type === 'countOrAuto' && value === 'auto')) return value;
  if (!/^\d+$/.test(value)) throw new ConfigError(`${name} must be ${NUMBER_KINDS[type]}, got "${value}"`);
  return Number(value);
}

function readJson(file: string, required: boolean): Json {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Json;
  } catch (error) {
    throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function deepMerge(base: Json, layer: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describePath(issuePath: PropertyKey[]): string {
  const dotted = issuePath.map(String).join('.');
  const envName = Object.entries(ENV_VARS).find(([, spec]) => spec.key === dotted)?.[0];
  return envName ? `${dotted} (${envName})` : dotted || '(root)';
}
