import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

export const rungSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'lowercase letters, digits, _ or -'),
    height: z.number().int().min(96).max(4320),
    videoBitrateKbps: z.number().int().min(64).max(100_000),
    maxrateKbps: z.number().int().min(64).max(150_000).optional(),
    maxFps: z.number().min(1).max(120).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    host: z.string().min(1),
    httpPort: port,
    rtmpPort: port,
    publicUrl: z.url().optional(),
    databaseUrl: z.string().min(1),
    mediaDir: z.string().min(1),
    adminToken: z.string().min(16, 'ADMIN_TOKEN must be at least 16 characters').optional(),
    ffmpegPath: z.string().min(1),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    logFormat: z.enum(['auto', 'json', 'pretty']).default('auto'),
    nodeId: z.string().min(1).max(64).optional(),
    ingest: z
      .object({
        app: z.string().regex(/^[a-zA-Z0-9_-]+$/),
        handshakeTimeoutSeconds: z.number().positive(),
        idleTimeoutSeconds: z.number().positive(),
        authorizeTimeoutSeconds: z.number().positive(),
        firstMediaTimeoutSeconds: z.number().positive(),
      })
      .strict(),
    hls: z
      .object({
        segmentSeconds: z.number().int().min(1).max(10),
        listSize: z.number().int().min(3).max(60),
      })
      .strict(),
    transcode: z
      .object({
        preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']),
        audioBitrateKbps: z.number().int().min(32).max(512),
        ladder: z.array(rungSchema).min(1),
        stopGraceSeconds: z.number().positive(),
      })
      .strict(),
  })
  .strict();

export type RawConfig = z.infer<typeof configSchema>;
export type RungConfig = z.infer<typeof rungSchema>;

/** The configuration after loading: paths absolute, node id known. */
export interface Config extends Omit<RawConfig, 'nodeId'> {
  nodeId: string;
}
