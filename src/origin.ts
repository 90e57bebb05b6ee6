import fs from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import { publicUrls, type PublicUrls } from './config/load';
import type { Config } from './config/schema';
import { describeDatabase } from './db/database-url';
import { createDatabase, migrateToLatest, type Database } from './db/knex';
import { createHttpApp } from './http/app';
import { cors } from './http/cors';
import { hlsRoutes } from './http/routes/hls';
import { landingRoutes } from './http/routes/landing';
import { opsRoutes } from './http/routes/ops';
import { playerRoutes } from './http/routes/player';
import { publicApi } from './http/routes/public-api';
import { streamsApi } from './http/routes/streams-api';
import { StreamView } from './http/stream-view';
import { freeBytes } from './hls/disk-space';
import { MediaLayout } from './hls/media-layout';
import { RetentionSweeper } from './hls/retention';
import { StreamFiles } from './hls/stream-files';
import { routeNmsLogging } from './ingest/nms-rtmp-protocol';
import { RtmpServer } from './ingest/rtmp-server';
import { LiveRegistry } from './live/live-registry';
import { LiveSession } from './live/live-session';
import { killOrphanTranscoders, recoverCrashedSessions } from './live/recovery';
import { SessionRepository } from './live/session-repository';
import type { Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { generateId } from './streams/keys';
import { StreamRepository } from './streams/stream-repository';
import { StreamService } from './streams/stream-service';
import { TokenRepository } from './streams/token-repository';
import { TokenService } from './streams/token-service';
import { checkFfmpeg } from './transcode/ffmpeg-check';
import { profileNames, resolveProfile } from './transcode/profiles';
import { ViewerCounter } from './viewers/viewer-counter';

/** Bounds the memory a client inventing viewer ids can take, far above any real audience of one origin. */
const MAX_VIEWERS_PER_STREAM = 100_000;

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

  const db = createDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
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
  const metrics = createMetrics({ viewerCounts: () => viewers.counts() });
  routeNmsLogging((level, message) => logger[level]({ component: 'node-media-server' }, message));

  const { transcode, hls, ingest } = config;
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
          posterIntervalSeconds: hls.posterIntervalSeconds,
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
        store: sessions,
        ffmpegPath: config.ffmpegPath,
        logger,
        metrics,
        now,
        onStateChange: (session, state) => {
          if (state === 'ended') onEnded(session);
        },
      }),
    { freeBytes: () => freeBytes(config.mediaDir), minFreeBytes: config.disk.minFreeMegabytes * 1024 * 1024, now },
    logger,
    metrics,
  );
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
      maxPendingBytes: 1024 * 1024,
    },
    registry,
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
  const view = new StreamView(urls, registry, viewers, files);
  const crossOrigin = cors(config.http.corsOrigins);
  const app = createHttpApp(logger, [
    opsRoutes(metrics),
    streamsApi({ streams, sessions, tokens, view, profiles: profileNames(config) }),
    publicApi({ streams, view, cors: crossOrigin }),
    hlsRoutes({ layout, viewers, cors: crossOrigin }),
    playerRoutes({ streams, view, assetsDir }),
    landingRoutes({ registry, view, assetsDir }),
  ]);
  httpServer.on('request', app.callback());
  retention.start();
  void retention.sweep();
  logger.info({ rtmp: urls.rtmpPublicUrl, http: urls.publicUrl }, 'origin listening');

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    const rtmpClosed = rtmp.stopAccepting();
    await registry.stopAll('shutdown');
    rtmp.closeAll();
    await rtmpClosed;
    await retention.stop();
    await new Promise<void>((resolve) => {
      httpServer.close(() => resolve());
      httpServer.closeAllConnections();
    });
    await db.destroy();
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
    metrics,
    viewers,
    bootstrapToken,
    stop: () => (stopping ??= stop()),
  };
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
