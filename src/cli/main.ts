#!/usr/bin/env node
// Operator CLI, working straight on the database (for an operator without HTTP access):
//   npm run cli -- streams create --name "My show" [--profile P] [--record] [--reconnect-window N] [--latency-mode M] [--playback P]
//   npm run cli -- streams list | show ID | enable ID | disable ID | reset-key ID [--disconnect] | delete ID
//   npm run cli -- streams playback-token ID --expires-in SECONDS [--origin URL]… [--viewer-id V]
//   npm run cli -- playback-keys create [--name N] | list | revoke ID
//   npm run cli -- destinations list STREAM_ID | add STREAM_ID --url rtmp(s)://host/app --key KEY | remove STREAM_ID DESTINATION_ID
//   npm run cli -- tokens create --name N --scope admin|read | list | revoke ID
//   npm run cli -- nodes list
// Add --json for machine-readable output. Changes are audited as the CLI user; a running server
// picks up disable, delete, disconnect, playback policies and revoked keys within live.watchIntervalSeconds.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog } from '../audit/audit-log';
import { NodeRegistry } from '../cluster/node-registry';
import { ConfigError, loadConfig, publicUrls } from '../config/load';
import { StreamControl } from '../control/stream-control';
import { DatabaseProblem } from '../db/database-problem';
import { openDatabase, type Database } from '../db/knex';
import { MediaLayout } from '../packaging/media-layout';
import { StreamFiles } from '../packaging/stream-files';
import type { z } from 'zod';
import { DestinationCreate, PlaybackKeyCreate, PlaybackTokenCreate, streamCreate, streamUpdate, TokenCreate } from '../http/api/schemas';
import { destinationView, nodeView, playbackKeyView, tokenView } from '../http/api/views';
import { StreamView } from '../http/stream-view';
import { SessionRepository } from '../live/session-repository';
import { createLogger, type Logger } from '../observability/logger';
import { DestinationRepository } from '../restream/destination-repository';
import { packageRoot } from '../package-root';
import { PlaybackAccess } from '../playback/playback-access';
import { PlaybackKeyRepository } from '../playback/playback-key-repository';
import { PlaybackService } from '../playback/playback-service';
import { generateId, ID_PATTERN } from '../streams/keys';
import { StreamRepository, type StreamRecord } from '../streams/stream-repository';
import { StreamService } from '../streams/stream-service';
import { TokenRepository } from '../streams/token-repository';
import { TokenService } from '../streams/token-service';
import { profileNames } from '../transcode/profiles';
import { WebhookRepository } from '../webhooks/webhook-repository';
import { WebhookService } from '../webhooks/webhook-service';

class UsageError extends Error {}

/** Viewers are counted in the server's memory; the CLI has no way to see them. */
const NO_VIEWERS = { count: () => 0 };

const USAGE = `usage: npm run cli -- <command> [options] [--json]

  streams create --name NAME [--profile PROFILE] [--record] [--reconnect-window SECONDS] [--latency-mode low|standard] [--playback public|signed]
  streams update ID [--name NAME] [--profile PROFILE] [--reconnect-window SECONDS] [--latency-mode low|standard] [--playback public|signed]
  streams list [--limit N]
  streams show ID
  streams enable ID
  streams disable ID
  streams reset-key ID [--disconnect]
  streams delete ID
  streams playback-token ID --expires-in SECONDS [--origin URL]... [--viewer-id ID]
  destinations list STREAM_ID
  destinations add STREAM_ID --url rtmp(s)://HOST/APP --key KEY
  destinations remove STREAM_ID DESTINATION_ID
  playback-keys create [--name NAME]
  playback-keys list
  playback-keys revoke ID
  tokens create --name NAME --scope admin|read
  tokens list
  tokens revoke ID
  nodes list
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      name: { type: 'string' },
      profile: { type: 'string' },
      record: { type: 'boolean' },
      'reconnect-window': { type: 'string' },
      'latency-mode': { type: 'string' },
      playback: { type: 'string' },
      'expires-in': { type: 'string' },
      origin: { type: 'string', multiple: true },
      'viewer-id': { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
      disconnect: { type: 'boolean', default: false },
      scope: { type: 'string' },
      limit: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [group, command, id, secondId] = positionals;
  if (values.help || !group || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }

  const config = loadConfig({ env: process.env, configDir: path.join(packageRoot(), 'config'), cwd: process.cwd() });
  const logger = createLogger({ level: 'warn', format: 'json', destination: process.stderr });
  const db = await openDatabase(config.databaseUrl, logger);
  try {
    const app = services(db, config, logger);
    const out = (human: string, json: unknown) => process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${human}\n`);
    const audited = async <T>(action: string, target: string | null, run: () => Promise<T>): Promise<T> => {
      try {
        const result = await run();
        await app.audit.record({ tokenId: 'cli', tokenName: `cli:${os.userInfo().username}`, action, target, outcome: 'ok', status: 0 });
        return result;
      } catch (error) {
        await app.audit.record({
          tokenId: 'cli',
          tokenName: `cli:${os.userInfo().username}`,
          action,
          target,
          outcome: error instanceof UsageError ? 'bad_request' : 'internal_error',
          status: 1,
        });
        throw error;
      }
    };
    const stream = async (): Promise<StreamRecord> => {
      if (!id || !ID_PATTERN.test(id)) throw new UsageError(`${group} ${command} needs a stream id`);
      const found = await app.streams.get(id);
      if (!found) throw new UsageError(`no stream with id ${id}`);
      return found;
    };
    const view = async () => {
      const live = await app.sessions.liveStreamIds();
      return new StreamView(
        app.urls,
        { status: (streamId) => (live.has(streamId) ? 'live' : 'idle'), session: () => undefined, liveStreamIds: () => [...live] },
        NO_VIEWERS,
        app.files,
      );
    };

    switch (`${group} ${command}`) {
      case 'streams create': {
        const window = values['reconnect-window'];
        const input = valid(streamCreate(profileNames(config)), {
          name: values.name ?? '',
          ...(values.profile !== undefined && { profile: values.profile }),
          ...(values.record !== undefined && { record: values.record }),
          ...(window !== undefined && { reconnectWindowSeconds: /^\d+$/.test(window) ? Number(window) : window }),
          ...(values['latency-mode'] !== undefined && { latencyMode: values['latency-mode'] }),
          ...(values.playback !== undefined && { playback: values.playback }),
        });
        const { stream: created, streamKey } = await audited('streams.create', null, () => app.control.create(input));
        const json = (await view()).operator(created, streamKey);
        out(
          [
            `Created stream ${created.id} "${created.name}"`,
            ...json.ingestUrls.map((url) => `  server (OBS):  ${url}`),
            `  stream key:    ${streamKey}   (shown only now)`,
            `  player:        ${json.playerUrl}`,
            `  HLS:           ${json.hlsUrl}`,
          ].join('\n'),
          json,
        );
        return 0;
      }
      case 'streams list': {
        const limit = values.limit === undefined ? 100 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be from 1 to 1000');
        const v = await view();
        const page = await app.streams.page(limit);
        const rows = page.items.map((s) => v.operator(s));
        out(
          table(
            ['ID', 'NAME', 'STATUS', 'ENABLED', 'PROFILE', 'PLAYBACK ID'],
            rows.map((s) => [s.id, s.name, s.status, s.enabled ? 'yes' : 'no', s.profile, s.playbackId]),
          ),
          rows,
        );
        return 0;
      }
      case 'streams show': {
        const json = (await view()).operator(await stream());
        out(
          Object.entries(json)
            .map(([key, value]) => `${key.padEnd(24)} ${value === null ? '-' : String(value)}`)
            .join('\n'),
          json,
        );
        return 0;
      }
      case 'streams update': {
        const target = await stream();
        const window = values['reconnect-window'];
        const changes = valid(streamUpdate(profileNames(config)), {
          ...(values.name !== undefined && { name: values.name }),
          ...(values.profile !== undefined && { profile: values.profile }),
          ...(window !== undefined && { reconnectWindowSeconds: /^\d+$/.test(window) ? Number(window) : window }),
          ...(values['latency-mode'] !== undefined && { latencyMode: values['latency-mode'] }),
          ...(values.playback !== undefined && { playback: values.playback }),
        });
        const updated = await audited('streams.update', `stream:${target.id}`, () => app.control.update(target, changes));
        out(`Stream ${target.id} updated (a live session keeps its settings until its next publish).`, (await view()).operator(updated));
        return 0;
      }
      case 'streams enable':
      case 'streams disable': {
        const target = await stream();
        const enabled = command === 'enable';
        await audited('streams.update', `stream:${target.id}`, () => app.control.update(target, { enabled }));
        out(`Stream ${target.id} ${enabled ? 'enabled' : 'disabled'}${enabled ? '' : '; a live session ends within seconds'}.`, { id: target.id, enabled });
        return 0;
      }
      case 'streams reset-key': {
        const target = await stream();
        const key = await audited('streams.resetKey', `stream:${target.id}`, () => app.control.resetKey(target, { disconnect: values.disconnect ?? false }));
        out(`New stream key for ${target.id}: ${key}   (shown only now; the old key no longer works)`, { id: target.id, streamKey: key, disconnect: values.disconnect });
        return 0;
      }
      case 'streams delete': {
        const target = await stream();
        await audited('streams.delete', `stream:${target.id}`, () => app.control.delete(target));
        out(`Deleted stream ${target.id} and its media.`, { id: target.id, deleted: true });
        return 0;
      }
      case 'streams playback-token': {
        const target = await stream();
        const expires = values['expires-in'];
        const input = valid(PlaybackTokenCreate, {
          expiresInSeconds: expires !== undefined && /^\d+$/.test(expires) ? Number(expires) : expires,
          ...(values.origin !== undefined && { origins: values.origin }),
          ...(values['viewer-id'] !== undefined && { viewerId: values['viewer-id'] }),
        });
        const { token, expiresAt } = await audited('streams.playbackTokens.create', `stream:${target.id}`, () => app.playback.mint(target, input));
        const urls = app.view.playbackUrls(target, token);
        const json = { token, expiresAt: new Date(expiresAt).toISOString(), ...urls };
        out([`Playback token for ${target.id}, valid until ${json.expiresAt}:`, `  ${token}`, `  player:  ${urls.playerUrl}`, `  HLS:     ${urls.hlsUrl}`].join('\n'), json);
        return 0;
      }
      case 'destinations list': {
        const target = await stream();
        const list = (await app.destinations.listByStream(target.id)).map((d) => destinationView(d, false));
        out(
          table(
            ['ID', 'URL', 'KEY', 'CREATED'],
            list.map((d) => [d.id, d.url, d.streamKey, d.createdAt]),
          ),
          list,
        );
        return 0;
      }
      case 'destinations add': {
        const target = await stream();
        const input = valid(DestinationCreate, { url: values.url ?? '', streamKey: values.key ?? '' });
        const created = await audited('destinations.create', `stream:${target.id}`, () =>
          app.destinations.insert({ id: generateId(), streamId: target.id, url: input.url, streamKey: input.streamKey, createdAt: Date.now() }),
        );
        out(`Added destination ${created.id} (${created.url}); a live session picks it up within live.watchIntervalSeconds.`, destinationView(created, false));
        return 0;
      }
      case 'destinations remove': {
        const target = await stream();
        if (!secondId || !ID_PATTERN.test(secondId)) throw new UsageError('destinations remove needs a stream id and a destination id');
        const removed = await audited('destinations.delete', `destination:${secondId}`, () => app.destinations.delete(target.id, secondId));
        if (!removed) throw new UsageError(`no destination ${secondId} for stream ${target.id}`);
        out(`Removed destination ${secondId}.`, { id: secondId, removed: true });
        return 0;
      }
      case 'playback-keys create': {
        const input = valid(PlaybackKeyCreate, values.name !== undefined ? { name: values.name } : {});
        const { record, secret } = await audited('playbackKeys.create', null, () => app.playback.createKey(input.name ?? ''));
        out(`Created playback key ${record.id}:\n  ${secret}   (shown only now; sign HS256 tokens with it, kid ${record.id})`, { ...playbackKeyView(record), secret });
        return 0;
      }
      case 'playback-keys list': {
        const keys = (await app.playback.listKeys()).map(playbackKeyView);
        out(
          table(
            ['ID', 'NAME', 'CREATED', 'REVOKED'],
            keys.map((k) => [k.id, k.name, k.createdAt, k.revokedAt ?? '-']),
          ),
          keys,
        );
        return 0;
      }
      case 'playback-keys revoke': {
        if (!id || !ID_PATTERN.test(id)) throw new UsageError('playback-keys revoke needs a key id');
        const revoked = await audited('playbackKeys.revoke', `playback-key:${id}`, () => app.playback.revokeKey(id));
        if (!revoked) throw new UsageError(`no active playback key with id ${id}`);
        out(`Revoked playback key ${id}: the tokens it signed no longer work.`, { id, revoked: true });
        return 0;
      }
      case 'tokens create': {
        const input = valid(TokenCreate, { name: values.name ?? '', scope: values.scope });
        const { token, record } = await audited('tokens.create', null, () => app.tokens.create(input));
        out(`Created ${input.scope} token ${record.id} "${record.name}":\n  ${token}   (shown only now)`, { ...tokenView(record), token });
        return 0;
      }
      case 'tokens list': {
        const tokens = (await app.tokens.list()).map(tokenView);
        out(
          table(
            ['ID', 'NAME', 'SCOPE', 'LAST USED', 'REVOKED'],
            tokens.map((t) => [t.id, t.name, t.scope, t.lastUsedAt ?? '-', t.revokedAt ?? '-']),
          ),
          tokens,
        );
        return 0;
      }
      case 'tokens revoke': {
        if (!id || !ID_PATTERN.test(id)) throw new UsageError('tokens revoke needs a token id');
        const revoked = await audited('tokens.revoke', `token:${id}`, () => app.tokens.revoke(id));
        if (!revoked) throw new UsageError(`no active token with id ${id}`);
        out(`Revoked token ${id}.`, { id, revoked: true });
        return 0;
      }
      case 'nodes list': {
        const nodes = (await app.nodes.list()).map(nodeView);
        out(
          table(
            ['ID', 'STATUS', 'URL', 'VERSION', 'LIVE', 'LOAD', 'LAST SEEN'],
            nodes.map((n) => [n.id, n.status, n.url, n.version, String(n.liveSessions), String(n.load), n.lastSeenAt]),
          ),
          nodes,
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown command: ${group} ${command}`);
    }
  } finally {
    await db.destroy();
    logger.flush();
  }
}

function services(db: Database, config: ReturnType<typeof loadConfig>, logger: Logger) {
  const now = () => Date.now();
  const streams = new StreamService(new StreamRepository(db), now, config.hls.latencyMode);
  const sessions = new SessionRepository(db);
  const webhooks = new WebhookService(new WebhookRepository(db), now);
  const urls = {
    ...publicUrls(config, { http: config.httpPort, rtmp: config.rtmpPort, ...(config.rtmpsPort !== undefined && { rtmps: config.rtmpsPort }) }),
    tlsRequired: config.ingest.tlsRequired,
  };
  const files = new StreamFiles(new MediaLayout(config.mediaDir));
  const view = new StreamView(urls, { status: () => 'idle', session: () => undefined, liveStreamIds: () => [] }, NO_VIEWERS, files);
  const control = new StreamControl({ streams, sessions, destinations: new DestinationRepository(db), files, webhooks, describe: (s) => view.webhook(s), logger });
  const nodes = new NodeRegistry(db, { goneAfterMs: config.cluster.leaseSeconds * 1000, now });
  // The CLI only mints and manages keys: its picture of who may watch is never asked.
  const playback = new PlaybackService({ keys: new PlaybackKeyRepository(db), streams: new StreamRepository(db), access: new PlaybackAccess(), refreshMs: 60_000, logger, now });
  return {
    streams,
    sessions,
    webhooks,
    urls,
    control,
    files,
    nodes,
    view,
    playback,
    destinations: new DestinationRepository(db),
    tokens: new TokenService(new TokenRepository(db), undefined, now),
    audit: new AuditLog(db, now),
  };
}

/** The API's own schemas validate the CLI's input too; option names stand in for field names. */
function valid<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const option =
    {
      reconnectWindowSeconds: '--reconnect-window',
      latencyMode: '--latency-mode',
      expiresInSeconds: '--expires-in',
      origins: '--origin',
      viewerId: '--viewer-id',
      streamKey: '--key',
    }[field] ?? `--${field}`;
  throw new UsageError(`${option}: ${issue.message}`);
}

function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError || error instanceof DatabaseProblem) {
      process.stderr.write(`origin-cli: ${error.message}\n`);
      process.exit(error instanceof UsageError ? 2 : 1);
    }
    process.stderr.write(`origin-cli: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
