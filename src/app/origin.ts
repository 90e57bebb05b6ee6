import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import http from 'node:http';
import type net from 'node:net';
import { AuditLog } from '../audit/audit-log';
import { NodeDrain } from '../cluster/drain';
import { ClusterHeartbeat } from '../cluster/heartbeat';
import { LiveElsewhere } from '../cluster/live-elsewhere';
import { NodeRegistry } from '../cluster/node-registry';
import { OwnerHop } from '../cluster/owner-hop';
import { refusesConnections } from '../cluster/peer-probe';
import { StreamCommands } from '../cluster/stream-commands';
import { StreamLeases } from '../cluster/stream-leases';
import { publicUrls, type PublicUrls } from '../config/load';
import type { Config } from '../config/schema';
import { StreamControl } from '../control/stream-control';
import { describeDatabase, parseDatabaseUrl } from '../db/database-url';
import { createDatabase, prepareDatabase, type Database } from '../db/knex';
import { auditRoutes } from '../http/api/audit';
import { nodeRoutes } from '../http/api/nodes';
import { profileRoutes } from '../http/api/profiles';
import { buildOpenApi } from '../http/api/openapi';
import { mountRoutes } from '../http/api/route';
import { streamRoutes } from '../http/api/streams';
import { tokenRoutes } from '../http/api/tokens';
import { webhookRoutes } from '../http/api/webhooks';
import { createHttpApp, requestIds } from '../http/app';
import { cors } from '../http/cors';
import { DeliveryProcesses } from '../http/delivery-processes';
import { hlsFileCache } from '../http/file-cache';
import { HeldRequests } from '../http/held-requests';
import { docsRoutes } from '../http/routes/docs';
import { hlsHandler } from '../http/routes/hls';
import { landingRoutes } from '../http/routes/landing';
import { opsRoutes } from '../http/routes/ops';
import { playerRoutes } from '../http/routes/player';
import { publicApi } from '../http/routes/public-api';
import { securityHeaders } from '../http/security-headers';
import { statusOf, StreamView } from '../http/stream-view';
import { routeNmsLogging } from '../ingest/nms-rtmp-protocol';
import { ReadRounds } from '../ingest/read-rounds';
import { RtmpServer } from '../ingest/rtmp-server';
import { LiveRegistry } from '../live/live-registry';
import { LiveSession } from '../live/live-session';
import { continuationOf, SessionOutput } from '../live/session-output';
import { killOrphanTranscoders, recoverCrashedSessions } from '../live/recovery';
import { SessionRepository } from '../live/session-repository';
import { StreamWatch } from '../live/stream-watch';
import type { Logger } from '../observability/logger';
import { EventLoopStalls } from '../observability/event-loop-stalls';
import { countHlsAnswers, createMetrics, type Metrics } from '../observability/metrics';
import { ReadinessCheck } from '../observability/readiness';
import { packageRoot } from '../package-root';
import { Catalog } from '../packaging/catalog';
import { freeBytes } from '../packaging/disk-space';
import { MediaLayout } from '../packaging/media-layout';
import { Posters, type PosterSource } from '../packaging/posters';
import { RetentionSweeper } from '../packaging/retention';
import { StreamFiles } from '../packaging/stream-files';
import { FailureGuard } from '../security/failure-guard';
import { generateId } from '../streams/keys';
import { StreamRepository, type StreamRecord } from '../streams/stream-repository';
import { StreamService } from '../streams/stream-service';
import { TokenRepository } from '../streams/token-repository';
import { TokenService } from '../streams/token-service';
import { checkFfmpeg } from '../transcode/ffmpeg-check';
import { profileNames, resolveProfile } from '../transcode/profiles';
import { ViewerCounter } from '../viewers/viewer-counter';
import { WebhookDispatcher } from '../webhooks/dispatcher';
import type { WebhookEventType } from '../webhooks/events';
import { WebhookRepository } from '../webhooks/webhook-repository';
import { WebhookService } from '../webhooks/webhook-service';
import { PlaybackAccess } from '../playback/playback-access';
import { PlaybackKeyRepository } from '../playback/playback-key-repository';
import { PlaybackService } from '../playback/playback-service';
import { playbackRoutes } from '../http/api/playback';
import { destinationRoutes } from '../http/api/destinations';
import { playbackCheck } from '../http/playback-check';
import { TlsCredentials, TlsCredentialsError } from '../ingest/tls-credentials';
import { DestinationRepository } from '../restream/destination-repository';
import { StreamHistory } from '../observability/stream-history';
import { Restream } from '../restream/restream';
import { startParts, type Part } from './parts';
import { settingsOf } from './settings';
import { Ticker } from '../ticker';

/** Bounds the memory a client inventing viewer ids can take, far above any real audience of one origin. */
const MAX_VIEWERS_PER_STREAM = 100_000;
/** One render is a fraction of a second of one core: two at once keep a burst of requests short. */
const MAX_POSTER_RENDERS = 2;
const POSTER_TIMEOUT_MS = 10_000;
/**
 * Event-loop stalls are sampled every 50 ms: a stall longer than that is always seen, within 50 ms
 * of its length. Each sample wakes the process, unless the read rounds share its timer
 * (docs/decisions.md).
 */
const EVENT_LOOP_SAMPLE_MS = 50;

export interface OriginOptions {
  config: Config;
  logger: Logger;
  /** Folder with the built player (dist/player). */
  assetsDir: string;
  /** A drain finished (no session left here): the process exits. Without it, the origin stops. */
  onDrained?: () => void;
}

export interface Origin {
  readonly urls: PublicUrls;
  readonly httpPort: number;
  readonly rtmpPort: number;
  /** The RTMPS listener's port, when there is one. */
  readonly rtmpsPort: number | undefined;
  /** Reads the RTMPS certificate and key again (SIGHUP); throws TlsCredentialsError and keeps the old ones if they are not usable. */
  reloadTls(): void;
  readonly db: Database;
  readonly registry: LiveRegistry;
  readonly catalog: Catalog;
  readonly held: HeldRequests;
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
  /** Drains this node within cluster.drainSeconds, as the API's drain does (SIGUSR2). */
  drain(): void;
}

/**
 * Restream pushes: an attempt with no output after 10 s, or 8 MiB of the stream the destination has
 * not taken, is given up; attempts follow after 1, 2, 5, 10, then every 30 s, and ten failures in
 * a row without going live mark the destination failed until the next session.
 */
const RESTREAM = { connectTimeoutMs: 10_000, maxBacklogBytes: 8 * 1024 * 1024, backoffMs: [1000, 2000, 5000, 10_000, 30_000], maxFailures: 10 };

/** The console's graphs: a sample every 10 s, an hour of them. */
const HISTORY_INTERVAL_MS = 10_000;
const HISTORY_KEEP_MS = 3_600_000;

/** Announced to the other nodes (in place of a stream id) when a playback policy or key changes. */
const PLAYBACK_CHANGED = 'playback';

/**
 * The origin, wired: every collaborator is built first, then the parts that run (database,
 * listeners, background tasks, live sessions) start in the order below and stop in reverse.
 * A start that fails halfway stops what it had started.
 */
export async function startOrigin({ config, logger, assetsDir, onDrained }: OriginOptions): Promise<Origin> {
  const ffmpeg = await checkFfmpeg(config.ffmpegPath);
  logger.info({ ffmpeg: ffmpeg.version }, 'ffmpeg found');
  const settings = settingsOf(config);
  const now = () => Date.now();

  const db = createDatabase(config.databaseUrl, logger);
  const streamRepository = new StreamRepository(db);
  const streams = new StreamService(streamRepository, now, config.hls.latencyMode);
  const sessions = new SessionRepository(db);
  const destinations = new DestinationRepository(db);
  const tokens = new TokenService(new TokenRepository(db), config.adminToken, now);
  const access = new PlaybackAccess();
  const playback = new PlaybackService({
    keys: new PlaybackKeyRepository(db),
    streams: streamRepository,
    access,
    refreshMs: settings.live.watchIntervalMs,
    logger,
    now,
    announce: () => commands?.announce(PLAYBACK_CHANGED),
  });
  const layout = new MediaLayout(config.mediaDir);
  const stallTicker = new Ticker(EVENT_LOOP_SAMPLE_MS);
  // One timer wakes the process to read every publisher and every ffmpeg's output together, and
  // to sample the event loop when the intervals are the same (as they are by default).
  const readTicker = settings.ingest.readIntervalMs === EVENT_LOOP_SAMPLE_MS ? stallTicker : new Ticker(settings.ingest.readIntervalMs);
  const readRounds = new ReadRounds(readTicker);
  const files = new StreamFiles(layout);
  const catalog = new Catalog();
  const viewers = new ViewerCounter({ windowMs: settings.viewers.windowMs, maxViewersPerStream: MAX_VIEWERS_PER_STREAM, now });
  // The registry, held requests and delivery processes are built below; the metrics read them only when scraped.
  let registry: LiveRegistry | undefined;
  let held: HeldRequests | undefined;
  let delivery: DeliveryProcesses | undefined;
  const eventLoopStalls = new EventLoopStalls(stallTicker);
  const metrics = createMetrics({
    node: config.nodeId,
    eventLoopStalls,
    heldRequests: () => (held?.size ?? 0) + (delivery?.held ?? 0),
    viewerCounts: () => viewers.counts(),
    liveStreams: () =>
      (registry?.list() ?? []).map((session) => {
        const info = session.info();
        return {
          playbackId: session.stream.playbackId,
          ...(info.ingest.bitrateKbps !== undefined && { ingestKbps: info.ingest.bitrateKbps }),
          ...(info.transcoder?.speed !== undefined && { transcoderSpeed: info.transcoder.speed }),
          restream: session.restreamStatuses(),
        };
      }),
  });
  db.on('query-error', () => metrics.databaseErrors.inc({ kind: 'query' }));
  routeNmsLogging((level, message) => logger[level]({ component: 'node-media-server' }, message));
  const webhookRepository = new WebhookRepository(db);
  const dispatcher = new WebhookDispatcher(
    webhookRepository,
    { pollMs: settings.webhooks.pollMs, retrySeconds: settings.webhooks.retrySeconds, timeoutMs: settings.webhooks.timeoutMs, leaseMs: 60_000, batch: 20 },
    logger,
    metrics,
    now,
  );
  const webhooks = new WebhookService(webhookRepository, now, () => dispatcher.wake());
  const audit = new AuditLog(db, now);
  // URLs are known once the listeners are bound; events before that cannot happen (nothing is live).
  let describe: (stream: StreamRecord) => Record<string, unknown> = (stream) => ({ id: stream.id, name: stream.name, playbackId: stream.playbackId });
  // Events are recorded off the media path; stopping waits for those still being written.
  const recording = new Set<Promise<void>>();
  const emit = (type: WebhookEventType, session: LiveSession, extra: Record<string, unknown> = {}, data: Record<string, unknown> = {}) => {
    const written = webhooks
      .emit(type, { stream: describe(session.stream), session: { id: session.id, startedAt: new Date(session.startedAt).toISOString(), ...extra }, ...data })
      .then(
        () => undefined,
        (error: unknown) => logger.error({ err: error, type }, 'cannot record a webhook event'),
      );
    recording.add(written);
    void written.finally(() => recording.delete(written));
  };

  const posters = new Posters({
    ffmpegPath: config.ffmpegPath,
    intervalMs: settings.hls.posterIntervalMs,
    maxRenders: MAX_POSTER_RENDERS,
    timeoutMs: POSTER_TIMEOUT_MS,
    posterPath: (playbackId) => layout.poster(playbackId),
    sourceOf: (playbackId): PosterSource | undefined => registry?.getByPlaybackId(playbackId)?.posterSource(),
    now,
    logger,
    metrics,
  });
  // Only nodes sharing a MySQL database form a cluster.
  const sharedDatabase = parseDatabaseUrl(config.databaseUrl).client === 'mysql';
  const leases = new StreamLeases(db, { node: config.nodeId, holder: `${config.nodeId}/${generateId()}`, leaseMs: settings.cluster.leaseMs, now });
  const live = new LiveRegistry({
    streams,
    leases,
    history: sessions,
    node: config.nodeId,
    ownerGone: refusesConnections,
    createSession: (stream, onEnded, takeover) =>
      new LiveSession({
        id: generateId(),
        stream,
        ...(takeover && { takeover }),
        recordsPosition: sharedDatabase,
        node: config.nodeId,
        settings: settings.session,
        createOutput: (events) =>
          new SessionOutput({
            ...events,
            stream,
            profile: resolveProfile(config, stream.profile),
            latencyMode: stream.latencyMode,
            settings: settings.session,
            files,
            catalog,
            posters,
            ffmpegPath: config.ffmpegPath,
            readRounds,
            metrics,
            now,
            ...(takeover && { continues: continuationOf(takeover) }),
          }),
        store: sessions,
        logger,
        metrics,
        now,
        onStateChange: (session, state) => {
          // A session continued from another node, or handed over to one, is one stream going on.
          if (state === 'live' && !session.continued) emit('stream.live', session);
          if (state === 'ended') {
            onEnded(session);
            if (!session.handedOver) emit('stream.idle', session, { endReason: session.reason });
          }
        },
        onPublisherGone: (session, why) => emit('stream.disconnected', session, { why }),
        createRestream: (session) =>
          new Restream({
            streamId: stream.id,
            destinations,
            settings: { ...RESTREAM, ffmpegPath: config.ffmpegPath, stopGraceMs: settings.session.stopGraceMs },
            now,
            logger: logger.child({ session: session.id, playbackId: stream.playbackId }),
            onFailure: (destination, error) => {
              metrics.restreamFailures.inc();
              emit('stream.restream_failed', session, {}, { destination: { id: destination.id, url: destination.url, error } });
            },
          }),
      }),
    freeBytes: () => freeBytes(config.mediaDir),
    minFreeBytes: settings.disk.minFreeBytes,
    now,
    logger,
    metrics,
  });
  registry = live;
  const nodes = new NodeRegistry(db, { goneAfterMs: settings.cluster.leaseMs, now });
  const self = { id: config.nodeId, url: () => config.nodeUrl ?? urls!.publicUrl, version: packageVersion(), startedAt: now() };
  const elsewhere = new LiveElsewhere(config.nodeId);
  const drain = new NodeDrain({ live, logger, now });
  // Set once every part has started.
  let stop: () => Promise<void> = async () => undefined;
  // Asked again at every heartbeat: the drain goes on, and the process stops once.
  let drained: Promise<void> | undefined;
  const drainBy = (deadlineAt: number) => {
    const done = drain.begin(deadlineAt);
    drained ??= done.then(() => (onDrained ? onDrained() : void stop().catch((error: unknown) => logger.error({ err: error }, 'cannot stop after draining'))));
  };
  const heartbeat = new ClusterHeartbeat({
    self,
    nodes,
    leases,
    live,
    viewers: (playbackId) => viewers.count(playbackId),
    elsewhere,
    hops: config.clusterSecret !== undefined,
    onDrainRequested: drainBy,
    closeOrphans: (goneBefore) => sessions.closeOfGoneNodes(goneBefore, now(), 'node_lost'),
    orphanAfterMs: settings.session.reconnectWindowMs + settings.cluster.leaseMs,
    now,
    intervalMs: settings.cluster.heartbeatMs,
    logger,
  });
  const watch = new StreamWatch(live, streams, destinations, settings.live.watchIntervalMs, logger);
  const history = new StreamHistory({
    intervalMs: HISTORY_INTERVAL_MS,
    keepMs: HISTORY_KEEP_MS,
    sessions: () => live.list(),
    viewers: (playbackId) => viewers.count(playbackId),
    now,
  });
  const retention = new RetentionSweeper(files, {
    keepEndedMs: settings.hls.keepEndedMs,
    intervalMs: settings.hls.sweepIntervalMs,
    activeSession: (playbackId) => live.getByPlaybackId(playbackId)?.id,
    now,
    logger,
  });
  const { keyGuessing } = settings.ingest;
  // Unusable certificate or key files stop the start here, with what is wrong with them.
  const tlsCredentials = config.rtmpsPort === undefined ? undefined : new TlsCredentials({ certFile: config.ingest.tlsCertFile!, keyFile: config.ingest.tlsKeyFile! });
  const rtmp = new RtmpServer(
    {
      host: config.host,
      port: config.rtmpPort,
      app: config.ingest.app,
      setupTimeoutMs: settings.ingest.handshakeTimeoutMs,
      idleTimeoutMs: settings.ingest.idleTimeoutMs,
      authorizeTimeoutMs: settings.ingest.authorizeTimeoutMs,
      maxConnections: config.ingest.maxConnections,
      maxConnectionsPerAddress: config.ingest.maxConnectionsPerAddress,
      readRounds,
      proxyProtocol: config.ingest.proxyProtocol,
      tlsRequired: config.ingest.tlsRequired,
      ...(tlsCredentials && { tls: { port: config.rtmpsPort!, credentials: tlsCredentials } }),
      limits: {
        maxPendingBytes: 1024 * 1024,
        maxMessageBytes: settings.ingest.maxMessageBytes,
        maxCommandBytes: 64 * 1024,
        maxBufferedBytes: 2 * settings.ingest.maxMessageBytes,
        maxChunkStreams: 32,
        maxChunkSize: 16 * 1024 * 1024,
      },
    },
    live,
    new FailureGuard({ ...keyGuessing, delayPerFailureMs: 500, maxDelayMs: 3000, maxAddresses: 100_000, now }),
    logger,
    metrics,
  );
  held = new HeldRequests(catalog, settings.hls.maxHeldRequests, (outcome) => metrics.holds.inc({ outcome }));
  const crossOrigin = cors(config.http.corsOrigins);
  const requestId = requestIds();
  const serveHls = hlsHandler({
    layout,
    catalog,
    held,
    posters,
    files: hlsFileCache(settings.hls.cacheMegabytes),
    viewers,
    access,
    now,
    cors: crossOrigin,
    answered: (kind, status, bytes) => countHlsAnswers(metrics, kind, status, 1, bytes),
    logger,
    requestId,
    trustProxy: config.http.trustProxy,
  });
  const httpServer = http.createServer();
  // Set once the listeners are bound and the URLs known; until then nothing is listening.
  let koa: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const hop =
    config.clusterSecret === undefined
      ? undefined
      : new OwnerHop({
          secret: config.clusterSecret,
          elsewhere,
          // A session starting here is not in the catalog yet, and no other node has it any more.
          liveHere: (playbackId, sessionId) => {
            const session = live.getByPlaybackId(playbackId);
            return session !== undefined && (sessionId === undefined || session.id === sessionId);
          },
          layout,
          logger,
        });
  const answer = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (hop?.take(req, res)) return;
    if (!serveHls(req, res)) koa(req, res);
  };
  httpServer.on('request', answer);
  delivery =
    config.http.deliveryProcesses > 0
      ? new DeliveryProcesses({
          count: config.http.deliveryProcesses,
          options: {
            mediaDir: config.mediaDir,
            corsOrigins: config.http.corsOrigins,
            trustProxy: config.http.trustProxy,
            cacheMegabytes: settings.hls.cacheMegabytes,
            maxHeldRequests: settings.hls.maxHeldRequests,
            logLevel: config.logLevel,
            logFormat: config.logFormat,
            onlyLiveHere: hop !== undefined,
          },
          server: httpServer,
          catalog,
          handle: answer,
          report: ({ answers, seen, holds }) => {
            for (const [kind, status, requests, bytes] of answers) countHlsAnswers(metrics, kind, status, requests, bytes);
            for (const [outcome, requests] of holds) metrics.holds.inc({ outcome }, requests);
            for (const [playbackId, viewerId] of seen) viewers.seen(playbackId, viewerId);
          },
          logger,
        })
      : undefined;
  if (delivery) playback.follow((snapshot) => delivery!.updateAccess(snapshot));

  let bootstrapToken: string | undefined;
  let commands: StreamCommands | undefined;
  let urls: PublicUrls | undefined;
  const ports: { http: number; rtmp: number; rtmps?: number } = { http: 0, rtmp: 0 };
  const parts: Part[] = [
    { name: 'metrics', stop: () => eventLoopStalls.stop() },
    {
      name: 'database',
      start: async () => {
        await prepareDatabase(db, config.databaseUrl);
        logger.info({ database: describeDatabase(config.databaseUrl) }, 'database ready');
      },
      stop: () => db.destroy(),
    },
    { name: 'admin token', start: async () => void (bootstrapToken = await tokens.bootstrapAdminToken()) },
    // Before anything answers viewers: a signed stream is never served as a public one.
    { name: 'playback access', start: () => playback.start(), stop: () => playback.stop() },
    {
      name: 'crash recovery',
      start: async () => {
        await fs.mkdir(layout.liveRoot, { recursive: true });
        killOrphanTranscoders(layout.liveRoot, logger);
        await recoverCrashedSessions({ sessions, streams: streamRepository, files, node: config.nodeId, now: now(), logger });
        await leases.dropPrevious();
      },
    },
    { name: 'webhook dispatcher', start: () => dispatcher.start(), stop: () => dispatcher.stop() },
    { name: 'webhook events', stop: async () => void (await Promise.all(recording)) },
    {
      name: 'rtmp listener',
      start: async () => {
        const bound = await rtmp.listen();
        ports.rtmp = bound.port;
        if (bound.tlsPort !== undefined) ports.rtmps = bound.tlsPort;
      },
      stop: () => rtmp.stopAccepting(),
    },
    {
      name: 'http listener',
      start: async () => {
        ports.http = (await listen(httpServer, config.host, config.httpPort)).port;
        urls = publicUrls(config, ports);
        koa = httpApp(urls);
      },
      stop: () =>
        new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
          hop?.close();
        }),
    },
    { name: 'cluster heartbeat', start: () => heartbeat.start(), stop: () => heartbeat.stop() },
    { name: 'delivery processes', start: () => delivery?.start(), stop: () => delivery?.stop() },
    { name: 'retention', start: () => (retention.start(), void retention.sweep()), stop: () => retention.stop() },
    { name: 'stream watch', start: () => watch.start(), stop: () => watch.stop() },
    { name: 'stream history', start: () => history.start(), stop: () => history.stop() },
    {
      name: 'stream commands',
      start: async () => {
        if (config.redisUrl) {
          commands = await StreamCommands.connect(
            config.redisUrl,
            (announced) => {
              if (announced !== PLAYBACK_CHANGED) return watch.wake();
              playback.refresh().catch((error: unknown) => logger.warn({ err: error }, 'could not refresh the signed streams and playback keys'));
            },
            logger,
          );
        }
      },
      stop: () => commands?.close(),
    },
    {
      name: 'publisher connections',
      stop: async () => {
        rtmp.closeAll();
        await rtmp.stopAccepting();
      },
    },
    {
      name: 'live sessions',
      stop: async () => {
        await posters.close();
        await live.stopAll('shutdown');
      },
    },
    // Stopped first: no new publisher while the sessions end.
    { name: 'ingest', stop: () => void rtmp.stopAccepting() },
  ];
  const stopParts = await startParts(parts, logger);
  let stopping: Promise<void> | undefined;
  stop = () => (stopping ??= stopParts().then(() => logger.info('origin stopped')));
  logger.info({ rtmp: urls!.rtmpPublicUrl, ...(urls!.rtmpsPublicUrl && { rtmps: urls!.rtmpsPublicUrl }), http: urls!.publicUrl }, 'origin listening');

  /** The Koa application (API, pages, health), once the URLs it hands out are known. */
  function httpApp(publicUrls: PublicUrls): (req: http.IncomingMessage, res: http.ServerResponse) => void {
    const view = new StreamView(
      { ...publicUrls, tlsRequired: config.ingest.tlsRequired },
      {
        status: (streamId) => (elsewhere.stream(streamId) ? 'live' : statusOf(live.getByStreamId(streamId))),
        session: (streamId) => live.getByStreamId(streamId)?.info(),
        liveStreamIds: () => [
          ...live
            .list()
            .filter((session) => statusOf(session) === 'live')
            .map((session) => session.stream.id),
          ...elsewhere.streamIds(),
        ],
      },
      // Every viewer's requests reach the node with the stream, whichever node they came in at.
      { count: (playbackId) => viewers.count(playbackId) + (elsewhere.playback(playbackId)?.viewers ?? 0) },
      // The node with the stream makes its poster when the request reaches it.
      { hasPoster: async (playbackId) => elsewhere.playback(playbackId) !== undefined || posters.canMake(playbackId) || (await files.hasPoster(playbackId)) },
    );
    describe = (stream) => view.webhook(stream);
    const control = new StreamControl({
      streams,
      sessions,
      destinations,
      files,
      webhooks,
      live,
      describe,
      logger,
      announce: (streamId) => commands?.announce(streamId),
      liveElsewhere: (streamId) => elsewhere.stream(streamId) !== undefined,
    });
    const apiRoutes = [
      ...streamRoutes({
        streams,
        control,
        sessions,
        view,
        profiles: profileNames(config),
        playback,
        history,
        historyIntervalSeconds: HISTORY_INTERVAL_MS / 1000,
        ...(hop && { passLiveView: (streamId, req, res) => hop.passLiveView(streamId, req, res) }),
      }),
      ...playbackRoutes({ streams, playback, view }),
      ...destinationRoutes({
        streams,
        destinations,
        view,
        now,
        changed: async (streamId) => {
          commands?.announce(streamId);
          await live.getByStreamId(streamId)?.reloadRestream();
        },
      }),
      ...tokenRoutes(tokens),
      ...webhookRoutes(webhooks),
      ...auditRoutes(audit),
      ...nodeRoutes(nodes, { drainSeconds: settings.cluster.drainSeconds, now }),
      ...profileRoutes(config),
    ];
    const check = playbackCheck(access, now);
    const authFailures = new FailureGuard({ ...settings.http.authFailures, slowAfter: Number.POSITIVE_INFINITY, delayPerFailureMs: 0, maxDelayMs: 0, maxAddresses: 100_000, now });
    const readiness = new ReadinessCheck({
      db,
      mediaDir: config.mediaDir,
      minFreeBytes: settings.disk.minFreeBytes,
      ffmpegPath: config.ffmpegPath,
      now,
      draining: () => drain.draining,
    });
    const app = createHttpApp(
      logger,
      [
        opsRoutes({ metrics, readiness, metricsToken: config.metrics.token }),
        mountRoutes(apiRoutes, { tokens, audit, authFailures, ...(hop && { fromPeer: (req: http.IncomingMessage) => hop.fromPeer(req) }) }),
        publicApi({ streams, view, cors: crossOrigin, check, access, now }),
        docsRoutes(buildOpenApi(apiRoutes, publicUrls.publicUrl, packageVersion()), swaggerUiDir()),
        playerRoutes({ streams, view, check, assetsDir }),
        landingRoutes({ streams, view, assetsDir }),
      ],
      {
        trustProxy: config.http.trustProxy,
        before: [securityHeaders(publicUrls.publicUrl)],
        onDatabaseUnavailable: () => metrics.databaseErrors.inc({ kind: 'unavailable' }),
        requestId,
        forwardedClientAddress: delivery?.clientAddressOf,
      },
    );
    return app.callback();
  }

  return {
    urls: urls!,
    httpPort: ports.http,
    rtmpPort: ports.rtmp,
    rtmpsPort: ports.rtmps,
    reloadTls: () => {
      if (!tlsCredentials) throw new TlsCredentialsError('there is no RTMPS listener (RTMPS_PORT)');
      tlsCredentials.reload();
    },
    db,
    registry: live,
    catalog,
    held,
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
    stop,
    drain: () => {
      const deadlineAt = now() + settings.cluster.drainSeconds * 1000;
      drainBy(deadlineAt);
      // So that the nodes list shows it; the drain does not wait for the database.
      nodes.requestDrain(config.nodeId, deadlineAt).catch((error: unknown) => logger.warn({ err: error }, 'cannot record the drain in the database'));
    },
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
