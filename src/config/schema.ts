import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

const RESERVED_NAMES = /^(source|sessions|audio.*)$/;

export const rungSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9_-]{1,32}$/, 'lowercase letters, digits, _ or -')
      .refine((name) => !RESERVED_NAMES.test(name), 'source, sessions and audio… are reserved rendition names'),
    height: z.number().int().min(96).max(4320),
    videoBitrateKbps: z.number().int().min(64).max(100_000),
    maxrateKbps: z.number().int().min(64).max(150_000).optional(),
    maxFps: z.number().min(1).max(120).optional(),
    audioBitrateKbps: z.number().int().min(32).max(512).optional(),
  })
  .strict();

const rungList = z
  .array(rungSchema)
  .min(1)
  .refine((rungs) => new Set(rungs.map((r) => r.name)).size === rungs.length, 'rendition names must be unique');

export const profileSchema = z
  .object({
    rungs: rungList,
    sourceRung: z.boolean().default(true),
  })
  .strict();

export const BUILTIN_PROFILES = ['ladder', 'passthrough'] as const;

const failureLimits = z.object({
  windowSeconds: z.number().positive(),
  blockAfter: z.number().int().positive(),
  blockSeconds: z.number().positive(),
});

/** `*`, or an origin exactly as a browser sends it: scheme, host, port if not the default, no path. */
const corsOrigin = z.string().refine((value) => value === '*' || isOrigin(value), 'must be * or an origin such as https://example.com (no path, no trailing slash)');

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

export const configSchema = z
  .object({
    host: z.string().min(1),
    httpPort: port,
    rtmpPort: port,
    /** RTMP over TLS beside plain RTMP (ingest.tlsCertFile and tlsKeyFile are then required). */
    rtmpsPort: port.optional(),
    publicUrl: z.url().optional(),
    databaseUrl: z.string().min(1),
    mediaDir: z.string().min(1),
    adminToken: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters').optional(),
    ffmpegPath: z.string().min(1),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    logFormat: z.enum(['auto', 'json', 'pretty']).default('auto'),
    nodeId: z.string().min(1).max(64).optional(),
    /** This node's base URL as the other nodes reach it; by default its public URL. */
    nodeUrl: z.url().optional(),
    /** Authenticates the requests nodes send each other; without it, each node serves only its own streams. */
    clusterSecret: z.string().min(16, 'CLUSTER_SECRET must be at least 16 characters').optional(),
    /** Optional: operators' changes reach every node at once over its pub/sub. */
    redisUrl: z
      .string()
      .regex(/^rediss?:\/\//, 'REDIS_URL must be a redis:// or rediss:// URL')
      .optional(),
    ingest: z
      .object({
        app: z.string().regex(/^[a-zA-Z0-9_-]+$/),
        handshakeTimeoutSeconds: z.number().positive(),
        idleTimeoutSeconds: z.number().positive(),
        authorizeTimeoutSeconds: z.number().positive(),
        firstMediaTimeoutSeconds: z.number().positive(),
        takeoverAfterIdleSeconds: z.number().positive(),
        maxConnections: z.number().int().positive(),
        maxConnectionsPerAddress: z.number().int().positive(),
        maxMessageMegabytes: z.number().positive().max(16),
        readIntervalMilliseconds: z.number().int().min(0).max(200),
        /** Every RTMP connection starts with a PROXY protocol v1 line (behind HAProxy's send-proxy). */
        proxyProtocol: z.boolean(),
        /** PEM files of the RTMPS listener's certificate (its chain) and key; read again on SIGHUP. */
        tlsCertFile: z.string().min(1).optional(),
        tlsKeyFile: z.string().min(1).optional(),
        /** Publishing over plain RTMP is refused: keys never cross the network in the clear. */
        tlsRequired: z.boolean(),
        keyGuessing: failureLimits.extend({ slowAfter: z.number().int().min(0) }).strict(),
      })
      .strict(),
    http: z
      .object({
        corsOrigins: z
          .array(corsOrigin)
          .min(1)
          .refine((origins) => !origins.includes('*') || origins.length === 1, '* allows every origin: list it alone'),
        /** Behind a reverse proxy: take the client address from X-Forwarded-For. */
        trustProxy: z.boolean(),
        /**
         * Extra processes answering HLS playlists and segments on the HTTP port
         * (src/http/delivery-processes.ts); `auto`: see autoDeliveryProcesses (src/config/load.ts).
         */
        deliveryProcesses: z.union([z.literal('auto'), z.number().int().min(0).max(64)]),
        authFailures: failureLimits.strict(),
      })
      .strict(),
    metrics: z
      .object({
        /** When set, /metrics wants `Authorization: Bearer <token>`. */
        token: z.string().min(16).optional(),
      })
      .strict(),
    viewers: z
      .object({
        windowSeconds: z.number().min(1).max(600),
      })
      .strict(),
    live: z
      .object({
        reconnectWindowSeconds: z.number().int().min(0).max(3600),
        watchIntervalSeconds: z.number().positive(),
      })
      .strict(),
    cluster: z
      .object({
        heartbeatSeconds: z.number().min(0.1).max(10),
        /** Unrenewed for this long, a node's streams may be taken over by another node. */
        leaseSeconds: z.number().min(1).max(60),
        /** How long a drained node's live streams may stay before they are handed over. */
        drainSeconds: z.number().int().min(0).max(3600),
      })
      .strict()
      .refine((cluster) => cluster.leaseSeconds >= 3 * cluster.heartbeatSeconds, 'leaseSeconds must be at least three heartbeats, so that one late heartbeat loses no stream'),
    webhooks: z
      .object({
        pollMilliseconds: z.number().int().min(50),
        timeoutSeconds: z.number().positive(),
        retrySeconds: z.array(z.number().min(0)).max(20),
      })
      .strict(),
    hls: z
      .object({
        segmentSeconds: z.number().int().min(1).max(10),
        /** PART-TARGET of low-latency streams: the longest a part may be. */
        partSeconds: z.number().min(0.1).max(1),
        /** For streams created without one. */
        latencyMode: z.enum(['low', 'standard']),
        /** Held (blocking) requests at once per process, past which more get 503. */
        maxHeldRequests: z.number().int().min(1),
        listSize: z.number().int().min(3).max(60),
        keepEndedSeconds: z.number().min(0),
        sweepIntervalSeconds: z.number().positive(),
        posterIntervalSeconds: z.number().int().min(1).max(600),
        cacheMegabytes: z.number().int().min(0),
      })
      .strict(),
    transcode: z
      .object({
        preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow']),
        audioBitrateKbps: z.number().int().min(32).max(512),
        ladder: rungList,
        sourceRung: z.boolean(),
        profiles: z
          .record(z.string().regex(/^[a-z0-9_-]{1,32}$/), profileSchema)
          .refine((profiles) => !BUILTIN_PROFILES.some((name) => name in profiles), 'ladder and passthrough are built-in profile names'),
        stopGraceSeconds: z.number().positive(),
        stallSegments: z.number().int().min(2).max(20),
        startupGraceSeconds: z.number().positive(),
        maxRestarts: z.number().int().min(0).max(100),
        restartWindowSeconds: z.number().positive(),
        backlogWarnMegabytes: z.number().positive(),
        backlogMaxMegabytes: z.number().positive(),
      })
      .strict(),
    disk: z
      .object({
        minFreeMegabytes: z.number().min(0),
      })
      .strict(),
  })
  .strict();

export type RawConfig = z.infer<typeof configSchema>;
export type RungConfig = z.infer<typeof rungSchema>;
export type ProfileConfig = z.infer<typeof profileSchema>;

/** The configuration after loading: paths absolute, node id known, `auto` worked out. */
export interface Config extends Omit<RawConfig, 'nodeId' | 'http'> {
  nodeId: string;
  http: Omit<RawConfig['http'], 'deliveryProcesses'> & { deliveryProcesses: number };
}
