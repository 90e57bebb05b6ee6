// The configuration in the units the code works in: seconds become milliseconds and megabytes
// bytes here, once, and nowhere else.
import type { Config } from '../config/schema';
import type { SessionSettings } from '../live/live-session';

const MB = 1024 * 1024;

export interface Settings {
  session: SessionSettings;
  ingest: {
    handshakeTimeoutMs: number;
    idleTimeoutMs: number;
    authorizeTimeoutMs: number;
    readIntervalMs: number;
    maxMessageBytes: number;
    keyGuessing: { windowMs: number; slowAfter: number; blockAfter: number; blockMs: number };
  };
  http: { authFailures: { windowMs: number; blockAfter: number; blockMs: number } };
  hls: { keepEndedMs: number; sweepIntervalMs: number; posterIntervalMs: number; cacheMegabytes: number; maxHeldRequests: number };
  viewers: { windowMs: number };
  live: { watchIntervalMs: number };
  cluster: { heartbeatMs: number; leaseMs: number; drainSeconds: number };
  webhooks: { pollMs: number; timeoutMs: number; retrySeconds: number[] };
  disk: { minFreeBytes: number };
}

export function settingsOf(config: Config): Settings {
  const { ingest, transcode, hls, live } = config;
  return {
    session: {
      segmentSeconds: hls.segmentSeconds,
      partSeconds: hls.partSeconds,
      listSize: hls.listSize,
      preset: transcode.preset,
      audioBitrateKbps: transcode.audioBitrateKbps,
      stopGraceMs: transcode.stopGraceSeconds * 1000,
      firstMediaTimeoutMs: ingest.firstMediaTimeoutSeconds * 1000,
      reconnectWindowMs: live.reconnectWindowSeconds * 1000,
      takeoverIdleMs: ingest.takeoverAfterIdleSeconds * 1000,
      stallSegments: transcode.stallSegments,
      startupGraceMs: transcode.startupGraceSeconds * 1000,
      maxRestarts: transcode.maxRestarts,
      restartWindowMs: transcode.restartWindowSeconds * 1000,
      backlogWarnBytes: transcode.backlogWarnMegabytes * MB,
      backlogMaxBytes: transcode.backlogMaxMegabytes * MB,
    },
    ingest: {
      handshakeTimeoutMs: ingest.handshakeTimeoutSeconds * 1000,
      idleTimeoutMs: ingest.idleTimeoutSeconds * 1000,
      authorizeTimeoutMs: ingest.authorizeTimeoutSeconds * 1000,
      readIntervalMs: ingest.readIntervalMilliseconds,
      maxMessageBytes: ingest.maxMessageMegabytes * MB,
      keyGuessing: {
        windowMs: ingest.keyGuessing.windowSeconds * 1000,
        slowAfter: ingest.keyGuessing.slowAfter,
        blockAfter: ingest.keyGuessing.blockAfter,
        blockMs: ingest.keyGuessing.blockSeconds * 1000,
      },
    },
    http: {
      authFailures: {
        windowMs: config.http.authFailures.windowSeconds * 1000,
        blockAfter: config.http.authFailures.blockAfter,
        blockMs: config.http.authFailures.blockSeconds * 1000,
      },
    },
    hls: {
      keepEndedMs: hls.keepEndedSeconds * 1000,
      sweepIntervalMs: hls.sweepIntervalSeconds * 1000,
      posterIntervalMs: hls.posterIntervalSeconds * 1000,
      cacheMegabytes: hls.cacheMegabytes,
      maxHeldRequests: hls.maxHeldRequests,
    },
    viewers: { windowMs: config.viewers.windowSeconds * 1000 },
    live: { watchIntervalMs: live.watchIntervalSeconds * 1000 },
    cluster: { heartbeatMs: config.cluster.heartbeatSeconds * 1000, leaseMs: config.cluster.leaseSeconds * 1000, drainSeconds: config.cluster.drainSeconds },
    webhooks: { pollMs: config.webhooks.pollMilliseconds, timeoutMs: config.webhooks.timeoutSeconds * 1000, retrySeconds: config.webhooks.retrySeconds },
    disk: { minFreeBytes: config.disk.minFreeMegabytes * MB },
  };
}
