import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import http from 'node:http';
import type net from 'node:net';
import { publicUrls, type PublicUrls } from './config/load';
import type { Config } from './config/schema';
import { describeDatabase } from './db/database-url';
import { openDatabase, type Database } from './db/knex';
import { createHttpApp, requestIds } from './http/app';
import { auditRoutes } from './http/api/audit';
import { buildOpenApi } from './http/api/openapi';
import { mountRoutes } from './http/api/route';
import { streamRoutes } from './http/api/streams';
import { tokenRoutes } from './http/api/tokens';
import { webhookRoutes } from './http/api/webhooks';
import { cors } from './http/cors';
import { docsRoutes } from './http/routes/docs';
import { hlsHandler } from './http/routes/hls';
import { landingRoutes } from './http/routes/landing';
import { opsRoutes } from './http/routes/ops';
import { playerRoutes } from './http/routes/player';
import { publicApi } from './http/routes/public-api';
import { statusOf, StreamView } from './http/stream-view';
import { freeBytes } from './hls/disk-space';
import { MediaLayout } from './hls/media-layout';
import { Posters, type PosterSource } from './hls/posters';
import { RetentionSweeper } from './hls/retention';
import { StreamFiles } from './hls/stream-files';
import { routeNmsLogging } from './ingest/nms-rtmp-protocol';
import { RtmpServer } from './ingest/rtmp-server';
import { LiveRegistry } from './live/live-registry';
import { LiveSession } from './live/live-session';
import { StreamWatch } from './live/stream-watch';
import { AuditLog } from './audit/audit-log';
import { StreamControl } from './control/stream-control';
import { WebhookDispatcher } from './webhooks/dispatcher';
import type { WebhookEventType } from './webhooks/events';
import { WebhookRepository } from './webhooks/webhook-repository';
import { WebhookService } from './webhooks/webhook-service';
import { killOrphanTranscoders, recoverCrashedSessions } from './live/recovery';
import { SessionRepository } from './live/session-repository';
import type { Logger } from './observability/logger';
import { countHlsAnswers, createMetrics, type Metrics } from './observability/metrics';
import { generateId } from './streams/keys';
import { StreamRepository } from './streams/stream-repository';
import { StreamService } from './streams/stream-service';
import { TokenRepository } from './streams/token-repository';
import { TokenService } from './streams/token-service';
import { checkFfmpeg } from './transcode/ffmpeg-check';
import { FailureGuard } from './security/failure-guard';
import { ReadinessCheck } from './observability/readiness';
import { securityHeaders } from './http/security-headers';
import { DeliveryProcesses } from './http/delivery-processes';
import { hlsFileCache } from './http/file-cache';
import { profileNames, resolveProfile } from './transcode/profiles';
import { packageRoot } from './package-root';
import type { StreamRecord } from './streams/stream-repository';
import { ViewerCounter } from './viewers/viewer-counter';

/** Bounds the memory a client inventing viewer ids can take, far above any real audience of one origin. */
const MAX_VIEWERS_PER_STREAM = 100_000;
/** One render is a fraction of a second of one core: two at once keep a burst of requests short. */
const MAX_POSTER_RENDERS = 2;
const POSTER_TIMEOUT_MS = 10_000;

export interface OriginOptions {
  config: Config;
  logger: Logger;
  /** Folder with the built player (dist/player). */
  assetsDir: string;
}

export interface Origin {
  readonly urls: PublicUrls;
  readonly httpPort: number;
  readonly rtmpPort: number;
  readonly db: Database;
  readonly registry: LiveRegistry;
  readonly streams: StreamService;
  readonly sessions: SessionRepository;
  readonly tokens: TokenService;
  readonly retention: RetentionSweeper;
  readonly webhooks: WebhookService;
  readonly dispatcher: WebhookDispatcher;
  readonly audit: AuditLog;
  readonly watch: StreamWatch;
  readonly metrics: Metrics;
  readonly viewers: ViewerCounter;
  /** Set on the first start without ADMIN_TOKEN and without tokens: shown once, never stored. */
  readonly bootstrapToken: string | undefined;
  stop(): Promise<void>;
}

/** Wires the origin together: database, services, the RTMP listener and the HTTP server. */
export async function startOrigin({ config, logger, assetsDir }: OriginOptions): Promise<Origin> {
  const ffmpeg = await checkFfmpeg(config.ffmpegPath);
  logger.info({ ffmpeg: ffmpeg.version }, 'ffmpeg found');

  const db = await openDatabase(config.databaseUrl, logger);
  logger.info({ database: describeDatabase(config.databaseUrl) }, 'database ready');

  const now = () => Date.now();
  const streamRepository = new StreamRepository(db);
  const streams = new StreamService(streamRepository, now);
  const sessions = new SessionRepository(db);
  const tokens = new TokenService(new TokenRepository(db), config.adminToken, now);
  const bootstrapToken = await tokens.bootstrapAdminToken();

  const layout = new MediaLayout(config.mediaDir);
  await fs.mkdir(layout.liveRoot, { recursive: true });
  const files = new StreamFiles(layout);
  killOrphanTranscoders(layout.liveRoot, logger);
  await recoverCrashedSessions({ sessions, streams: streamRepository, files, node: config.nodeId, now: now(), logger });
  const viewers = new ViewerCounter({ windowMs: config.viewers.windowSeconds * 1000, maxViewersPerStream: MAX_VIEWERS_PER_STREAM, now });
  const metrics = createMetrics({
    viewerCounts: () => viewers.counts(),
    liveStreams: () =>
      registry.list().map((session) => {
        const info = session.info();
        return {
          playbackId: session.stream.playbackId,
          ...(info.ingest.bitrateKbps !== undefined && { ingestKbps: info.ingest.bitrateKbps }),
          ...(info.transcoder?.speed !== undefined && { transcoderSpeed: info.transcoder.speed }),
        };
      }),
  });
  db.on('query-error', () => metrics.databaseErrors.inc({ kind: 'query' }));
  routeNmsLogging((level, message) => logger[level]({ component: 'node-media-server' }, message));
  const webhookRepository = new WebhookRepository(db);
  const dispatcher = new WebhookDispatcher(
    webhookRepository,
    { pollMs: config.webhooks.pollMilliseconds, retrySeconds: config.webhooks.retrySeconds, timeoutMs: config.webhooks.timeoutSeconds * 1000, leaseMs: 60_000, batch: 20 },
    logger,
    metrics,
    now,
  );
  const webhooks = new WebhookService(webhookRepository, now, () => dispatcher.wake());
  const audit = new AuditLog(db, now);
  // URLs are known once the listeners are bound; events before that cannot happen (nothing is live).
  let describe: (stream: StreamRecord) => Record<string, unknown> = (stream) => ({ id: stream.id, name: stream.name, playbackId: stream.playbackId });
  // Events are recorded off the media path; stop() waits for those still being written.
  const recording = new Set<Promise<void>>();
  const emit = (type: WebhookEventType, session: LiveSession, extra: Record<string, unknown> = {}) => {
    const written = webhooks
      .emit(type, { stream: describe(session.stream), session: { id: session.id, startedAt: new Date(session.startedAt).toISOString(), ...extra } })
      .then(() => undefined, (error: unknown) => logger.error({ err: error, type }, 'cannot record a webhook event'));
    recording.add(written);
    void written.finally(() => recording.delete(written));
  };

  const { transcode, hls, ingest } = config;
  const posters = new Posters({
    ffmpegPath: config.ffmpegPath,
    intervalMs: hls.posterIntervalSeconds * 1000,
    maxRenders: MAX_POSTER_RENDERS,
    timeoutMs: POSTER_TIMEOUT_MS,
    posterPath: (playbackId) => layout.poster(playbackId),
    sourceOf: (playbackId): PosterSource | undefined => registry.getByPlaybackId(playbackId)?.posterSource(),
    now,
    logger,
    metrics,
  });
  const registry = new LiveRegistry(
    streams,
    (stream, onEnded) =>
      new LiveSession({
        id: generateId(),
        stream,
        profile: resolveProfile(config, stream.profile),
        node: config.nodeId,
        settings: {
          segmentSeconds: hls.segmentSeconds,
          listSize: hls.listSize,
          preset: transcode.preset,
          audioBitrateKbps: transcode.audioBitrateKbps,
          stopGraceMs: transcode.stopGraceSeconds * 1000,
          firstMediaTimeoutMs: ingest.firstMediaTimeoutSeconds * 1000,
          reconnectWindowMs: config.live.reconnectWindowSeconds * 1000,
          takeoverIdleMs: ingest.takeoverAfterIdleSeconds * 1000,
          stallSegments: transcode.stallSegments,
          startupGraceMs: transcode.startupGraceSeconds * 1000,
          maxRestarts: transcode.maxRestarts,
          restartWindowMs: transcode.restartWindowSeconds * 1000,
          backlogWarnBytes: transcode.backlogWarnMegabytes * 1024 * 1024,
          backlogMaxBytes: transcode.backlogMaxMegabytes * 1024 * 1024,
        },
        files,
        posters,
        store: sessions,
        ffmpegPath: config.ffmpegPath,
        logger,
        metrics,
        now,
        onStateChange: (session, state) => {
          if (state === 'live') emit('stream.live', session);
          if (state === 'ended') {
            onEnded(session);
            emit('stream.idle', session, { endReason: session.reason });
          }
        },
        onPublisherGone: (session, why) => emit('stream.disconnected', session, { why }),
      }),
    { freeBytes: () => freeBytes(config.mediaDir), minFreeBytes: config.disk.minFreeMegabytes * 1024 * 1024, now },
    logger,
    metrics,
  );
  const watch = new StreamWatch(registry, streams, config.live.watchIntervalSeconds * 1000, logger);
  const retention = new RetentionSweeper(files, {
    keepEndedMs: hls.keepEndedSeconds * 1000,
    intervalMs: hls.sweepIntervalSeconds * 1000,
    activeSession: (playbackId) => registry.getByPlaybackId(playbackId)?.id,
    now,
    logger,
  });

  const rtmp = new RtmpServer(
    {
      host: config.host,
      port: config.rtmpPort,
      app: config.ingest.app,
      setupTimeoutMs: config.ingest.handshakeTimeoutSeconds * 1000,
      idleTimeoutMs: config.ingest.idleTimeoutSeconds * 1000,
      authorizeTimeoutMs: config.ingest.authorizeTimeoutSeconds * 1000,
      maxConnections: config.ingest.maxConnections,
      maxConnectionsPerAddress: config.ingest.maxConnectionsPerAddress,
      readIntervalMs: config.ingest.readIntervalMilliseconds,
      limits: {
        maxPendingBytes: 1024 * 1024,
        maxMessageBytes: config.ingest.maxMessageMegabytes * 1024 * 1024,
        maxCommandBytes: 64 * 1024,
        maxBufferedBytes: 2 * config.ingest.maxMessageMegabytes * 1024 * 1024,
        maxChunkStreams: 32,
        maxChunkSize: 16 * 1024 * 1024,
      },
    },
    registry,
    new FailureGuard({
      windowMs: config.ingest.keyGuessing.windowSeconds * 1000,
      slowAfter: config.ingest.keyGuessing.slowAfter,
      delayPerFailureMs: 500,
      maxDelayMs: 3000,
      blockAfter: config.ingest.keyGuessing.blockAfter,
      blockMs: config.ingest.keyGuessing.blockSeconds * 1000,
      maxAddresses: 100_000,
      now,
    }),
    logger,
    metrics,
  );
  const httpServer = http.createServer();
  let rtmpAddress: net.AddressInfo;
  let httpAddress: net.AddressInfo;
  try {
    rtmpAddress = await rtmp.listen();
    httpAddress = await listen(httpServer, config.host, config.httpPort);
  } catch (error) {
    await rtmp.stopAccepting();
    httpServer.close();
    await db.destroy();
    throw error;
  }

  const urls = publicUrls(config, { http: httpAddress.port, rtmp: rtmpAddress.port });
  const view = new StreamView(
    urls,
    {
      status: (streamId) => statusOf(registry.getByStreamId(streamId)),
      session: (streamId) => registry.getByStreamId(streamId)?.info(),
    },
    viewers,
    { hasPoster: async (playbackId) => posters.canMake(playbackId) || (await files.hasPoster(playbackId)) },
  );
  describe = (stream) => view.webhook(stream);
  const control = new StreamControl({ streams, sessions, files, webhooks, live: registry, describe, logger });
  const apiRoutes = [
    ...streamRoutes({ streams, control, sessions, registry, view, profiles: profileNames(config) }),
    ...tokenRoutes(tokens),
    ...webhookRoutes(webhooks),
    ...auditRoutes(audit),
  ];
  const crossOrigin = cors(config.http.corsOrigins);
  const authFailures = new FailureGuard({
    windowMs: config.http.authFailures.windowSeconds * 1000,
    slowAfter: Number.POSITIVE_INFINITY,
    delayPerFailureMs: 0,
    maxDelayMs: 0,
    blockAfter: config.http.authFailures.blockAfter,
    blockMs: config.http.authFailures.blockSeconds * 1000,
    maxAddresses: 100_000,
    now,
  });
  const readiness = new ReadinessCheck({ db, mediaDir: config.mediaDir, minFreeBytes: config.disk.minFreeMegabytes * 1024 * 1024, ffmpegPath: config.ffmpegPath, now });
  const requestId = requestIds();
  const serveHls = hlsHandler({
    layout,
    posters,
    files: hlsFileCache(config.hls.cacheMegabytes),
    viewers,
    cors: crossOrigin,
    answered: (kind, status, bytes) => countHlsAnswers(metrics, kind, status, 1, bytes),
    logger,
    requestId,
    trustProxy: config.http.trustProxy,
  });
  const delivery =
    config.http.deliveryProcesses > 0
      ? new DeliveryProcesses({
          count: config.http.deliveryProcesses,
          options: {
            mediaDir: config.mediaDir,
            corsOrigins: config.http.corsOrigins,
            trustProxy: config.http.trustProxy,
            cacheMegabytes: config.hls.cacheMegabytes,
            logLevel: config.logLevel,
            logFormat: config.logFormat,
          },
          server: httpServer,
          // Defined below, called only once delivery processes forward requests.
          handle: (req, res) => answer(req, res),
          report: ({ answers, seen }) => {
            for (const [kind, status, requests, bytes] of answers) countHlsAnswers(metrics, kind, status, requests, bytes);
            for (const [playbackId, viewerId] of seen) viewers.seen(playbackId, viewerId);
          },
          logger,
        })
      : undefined;
  const app = createHttpApp(logger, [
    opsRoutes({ metrics, readiness, metricsToken: config.metrics.token }),
    mountRoutes(apiRoutes, { tokens, audit, authFailures }),
    publicApi({ streams, view, cors: crossOrigin }),
    docsRoutes(buildOpenApi(apiRoutes, urls.publicUrl, packageVersion()), swaggerUiDir()),
    playerRoutes({ streams, view, assetsDir }),
    landingRoutes({ registry, view, assetsDir }),
  ], {
    trustProxy: config.http.trustProxy,
    before: [securityHeaders(urls.publicUrl)],
    onDatabaseUnavailable: () => metrics.databaseErrors.inc({ kind: 'unavailable' }),
    requestId,
    forwardedClientAddress: delivery?.clientAddressOf,
  });
  const koa = app.callback();
  const answer = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!serveHls(req, res)) void koa(req, res);
  };
  httpServer.on('request', answer);
  await delivery?.start();
  retention.start();
  void retention.sweep();
  watch.start();
  dispatcher.start();
  logger.info({ rtmp: urls.rtmpPublicUrl, http: urls.publicUrl }, 'origin listening');

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    const rtmpClosed = rtmp.stopAccepting();
    await posters.close();
    await registry.stopAll('shutdown');
    rtmp.closeAll();
    await rtmpClosed;
    await retention.stop();
    await watch.stop();
    await dispatcher.stop();
    await Promise.all(recording);
    await delivery?.stop();
    await new Promise<void>((resolve) => {
      httpServer.close(() => resolve());
      httpServer.closeAllConnections();
    });
    await db.destroy();
    metrics.close();
    logger.info('origin stopped');
  };

  return {
    urls,
    httpPort: httpAddress.port,
    rtmpPort: rtmpAddress.port,
    db,
    registry,
    streams,
    sessions,
    tokens,
    retention,
    webhooks,
    dispatcher,
    audit,
    watch,
    metrics,
    viewers,
    bootstrapToken,
    stop: () => (stopping ??= stop()),
  };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function swaggerUiDir(): string {
  return path.dirname(require.resolve('swagger-ui-dist/package.json'));
}

function listen(server: http.Server, host: string, port: number): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as net.AddressInfo);
    });
  });
}
