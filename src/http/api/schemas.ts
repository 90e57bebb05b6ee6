import { z } from 'zod';
import { LATENCY_MODES, PLAYBACK_POLICIES } from '../../streams/stream-repository';
import { DESTINATION_STATUSES } from '../../restream/destination-repository';
import { WEBHOOK_EVENTS } from '../../webhooks/events';

// One set of schemas: requests are validated with them and the OpenAPI document is generated
// from them (`.meta({ id })` names a component). Request objects are strict: unknown fields are
// an error, not ignored.

const isoTime = z.string().meta({ format: 'date-time', example: '2026-11-21T10:00:00.000Z' });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'invalid_body' }),
      message: z.string().meta({ example: 'name: must not be empty' }),
      details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

export const IdParams = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9]{16}$/)
    .meta({ description: 'A 16-character id.' }),
});

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Printable text only: control characters and broken UTF-16 (which MySQL would refuse) are errors. */
function text(max: number) {
  return (
    z
      .string()
      .trim()
      .max(max, `must be at most ${max} characters`)
      .refine((value) => !LONE_SURROGATE.test(value), 'must be valid Unicode text')
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), 'must not contain control characters')
  );
}

const name = text(200).refine((value) => value.length > 0, 'must not be empty');
const reconnectWindow = z.number().int().min(0).max(3600).meta({ description: 'Seconds a dropped publisher has to come back; 0 ends the stream at once.' });

const PLAYBACK_DESCRIPTION = '`public` (anyone with the playback id) or `signed` (only with a playback token: every HLS request, poster, status and page). Applies at once.';

export function streamCreate(profiles: readonly string[]) {
  const profile = z
    .string()
    .refine((p) => profiles.includes(p), `must be one of: ${profiles.join(', ')}`)
    .meta({ description: `One of: ${profiles.join(', ')}.` });
  return z
    .object({
      name,
      profile: profile.optional(),
      record: z.boolean().optional().meta({ description: 'Keep every segment of each session and serve it as VOD afterwards.' }),
      reconnectWindowSeconds: reconnectWindow.optional(),
      latencyMode: z.enum(LATENCY_MODES).optional().meta({
        description:
          '`low` (LL-HLS: parts and blocking playlist reloads, about a second behind) or `standard` (whole segments, for caches and players that cannot hold requests). Applies from the next publish.',
      }),
      playback: z.enum(PLAYBACK_POLICIES).optional().meta({ description: PLAYBACK_DESCRIPTION }),
    })
    .strict()
    .meta({ id: 'StreamCreate' });
}

export function streamUpdate(profiles: readonly string[]) {
  return streamCreate(profiles)
    .partial()
    .extend({
      enabled: z.boolean().optional().meta({ description: 'Disabling a live stream ends its session at once.' }),
      reconnectWindowSeconds: reconnectWindow.nullable().optional().meta({ description: 'null returns to the configured default.' }),
    })
    .strict()
    .refine((body) => Object.keys(body).length > 0, 'send at least one field to change')
    .meta({ id: 'StreamUpdate' });
}

export const ResetKeyBody = z
  .object({ disconnect: z.boolean().optional().meta({ description: 'Also end the current session.' }) })
  .strict()
  .meta({ id: 'ResetKey' });

const pageQuery = {
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number')
    .optional()
    .meta({ description: 'From 1 to 100; 50 by default.' }),
  cursor: z.string().max(200).optional().meta({ description: 'The nextCursor of the previous page.' }),
};
export const PageQuery = z.object(pageQuery).strict();
export const StreamListQuery = z
  .object({
    ...pageQuery,
    status: z.enum(['live', 'idle']).optional(),
    enabled: z.enum(['true', 'false']).optional(),
  })
  .strict();

const renditionInfo = z.object({
  name: z.string(),
  kind: z.enum(['video', 'audio']),
  mode: z.enum(['encode', 'copy']),
  width: z.number().optional(),
  height: z.number().optional(),
  bitrateKbps: z.number().optional(),
});

export const LiveSessionBody = z
  .object({
    id: z.string(),
    node: z.string().meta({ description: 'The origin node ingesting the session (NODE_ID).' }),
    state: z.enum(['authorizing', 'starting', 'live', 'reconnecting', 'ending', 'ended']),
    startedAt: isoTime,
    clientAddress: z.string().optional(),
    profile: z.string(),
    latencyMode: z.enum(LATENCY_MODES).meta({ description: "The mode this session was packaged in (the stream's, when it started)." }),
    recorded: z.boolean(),
    reconnects: z.number().int(),
    transcoderRestarts: z.number().int(),
    ingest: z.object({
      video: z.object({ codec: z.string(), width: z.number(), height: z.number(), frameRate: z.number().optional() }).optional(),
      audio: z.object({ codec: z.string(), sampleRate: z.number().optional(), channels: z.number().optional() }).optional(),
      bitrateKbps: z.number().optional(),
      keyframeIntervalSeconds: z.number().optional(),
      bytesIn: z.number(),
    }),
    renditions: z.array(renditionInfo),
    transcoder: z.object({ speed: z.number().optional(), fps: z.number().optional() }).optional(),
    warnings: z.array(z.string()).meta({ description: 'e.g. keyframe_interval_too_long' }),
    viewers: z.number().int().meta({ description: 'Concurrent viewers, whichever node of the cluster they came in at.' }),
  })
  .meta({ id: 'LiveSession' });

export const StreamBody = z
  .object({
    id: z.string(),
    name: z.string(),
    playbackId: z.string(),
    ingestUrl: z.string().meta({ description: 'What a streamer enters as "Server" in OBS: plain RTMP, or RTMPS when the origin refuses plain RTMP.' }),
    ingestUrls: z.array(z.string()).meta({ description: 'Every ingest URL: rtmp://… (unless refused) and rtmps://… when there is an RTMPS listener (RTMPS_PORT).' }),
    hlsUrl: z.string(),
    playerUrl: z.string(),
    status: z.enum(['idle', 'live']),
    enabled: z.boolean(),
    profile: z.string(),
    record: z.boolean(),
    reconnectWindowSeconds: z.number().nullable(),
    latencyMode: z.enum(LATENCY_MODES),
    playback: z.enum(PLAYBACK_POLICIES).meta({ description: PLAYBACK_DESCRIPTION }),
    createdAt: isoTime,
    updatedAt: isoTime,
    liveSession: LiveSessionBody.nullable().optional().meta({ description: 'Only on a single stream: its live session, or null.' }),
  })
  .meta({ id: 'Stream' });

export const StreamWithKey = StreamBody.extend({
  streamKey: z.string().meta({ description: 'The stream key. Shown only here: the origin keeps only its hash.' }),
}).meta({ id: 'StreamWithKey' });

export const SessionBody = z
  .object({
    id: z.string(),
    node: z.string().meta({ description: 'The origin node that ingested the session (NODE_ID).' }),
    state: z.string(),
    startedAt: isoTime,
    endedAt: isoTime.nullable(),
    endReason: z.string().nullable(),
    clientAddress: z.string().nullable(),
    bytesIn: z.number(),
    video: z.object({ codec: z.string(), width: z.number().nullable(), height: z.number().nullable(), frameRate: z.number().nullable() }).nullable(),
    audio: z.object({ codec: z.string() }).nullable(),
    profile: z.string(),
    recorded: z.boolean(),
    reconnects: z.number(),
    transcoderRestarts: z.number(),
    vodUrl: z.string().nullable().meta({ description: 'Recorded sessions: the recording, playable as VOD once the session ended.' }),
  })
  .meta({ id: 'Session' });

export const TokenCreate = z
  .object({
    name: text(100).refine((value) => value.length > 0, 'must not be empty'),
    scope: z.enum(['admin', 'read']).meta({ description: '`read` tokens can look but not change anything.' }),
  })
  .strict()
  .meta({ id: 'TokenCreate' });

export const TokenBody = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: z.enum(['admin', 'read']),
    createdAt: isoTime,
    lastUsedAt: isoTime.nullable(),
    revokedAt: isoTime.nullable(),
  })
  .meta({ id: 'Token' });

export const TokenWithSecret = TokenBody.extend({ token: z.string().meta({ description: 'The secret. Shown only here.' }) }).meta({ id: 'TokenWithSecret' });

const webhookUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL without credentials');

export const WebhookCreate = z
  .object({
    url: webhookUrl,
    description: text(200).optional(),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).optional().meta({ description: 'All events when left out.' }),
  })
  .strict()
  .meta({ id: 'WebhookCreate' });

export const WebhookUpdate = z
  .object({
    url: webhookUrl.optional(),
    description: text(200).optional(),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'send at least one field to change')
  .meta({ id: 'WebhookUpdate' });

export const WebhookBody = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    events: z.array(z.enum(WEBHOOK_EVENTS)),
    enabled: z.boolean(),
    createdAt: isoTime,
  })
  .meta({ id: 'Webhook' });

export const WebhookWithSecret = WebhookBody.extend({
  secret: z.string().meta({ description: 'Signs every delivery (X-Origin-Signature). Shown when created or rotated.' }),
}).meta({ id: 'WebhookWithSecret' });

export const DeliveryBody = z
  .object({
    id: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number(),
    nextAttemptAt: isoTime.nullable(),
    lastStatus: z.number().nullable(),
    lastError: z.string().nullable(),
    createdAt: isoTime,
    deliveredAt: isoTime.nullable(),
  })
  .meta({ id: 'Delivery' });

export const AuditBody = z
  .object({
    id: z.string(),
    at: isoTime,
    token: z.object({ id: z.string(), name: z.string() }),
    action: z.string().meta({ example: 'streams.update' }),
    target: z.string().nullable().meta({ example: 'stream:8fJ2kLmN0pQrStUv' }),
    outcome: z.string().meta({ description: '`ok`, or the error code the request ended with.' }),
    status: z.number(),
  })
  .meta({ id: 'AuditEntry' });

export const DisconnectBody = z.object({ disconnected: z.boolean() }).meta({ id: 'Disconnected' });

export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() }).meta({ id });
}

export const PublicStreamBody = z
  .object({
    playbackId: z.string(),
    name: z.string(),
    status: z.enum(['idle', 'live']),
    viewers: z.number().int(),
    hlsUrl: z.string(),
    playerUrl: z.string(),
    posterUrl: z.string().optional().meta({
      description: 'While the stream has a poster: its newest picture while it has a session, then the last picture of its last session, at an address of its own per session.',
    }),
  })
  .meta({ id: 'PublicStream' });

export const NodeBody = z
  .object({
    id: z.string().meta({ description: 'NODE_ID' }),
    url: z.string().meta({ description: 'NODE_URL: where the other nodes reach it.' }),
    version: z.string(),
    status: z.enum(['up', 'gone']),
    startedAt: isoTime,
    lastSeenAt: isoTime,
    liveSessions: z.number().int(),
    load: z.number().meta({ description: 'One-minute load average per core.' }),
    draining: z.boolean().meta({ description: 'Told to drain: it takes no new publishes and hands its streams over by drainDeadline.' }),
    drainDeadline: isoTime.nullable(),
  })
  .meta({ id: 'Node' });

export const DrainBody = z
  .object({
    deadlineSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .optional()
      .meta({ description: 'How long live streams may stay before they are handed over; cluster.drainSeconds by default.' }),
  })
  .strict()
  .meta({ id: 'Drain' });

export const NodeList = z.object({ data: z.array(NodeBody) }).meta({ id: 'NodeList' });

export const ProfileBody = z
  .object({
    name: z.string(),
    kind: z.enum(['ladder', 'passthrough']),
    sourceRung: z.boolean().meta({ description: 'The source is copied as a rendition too (when the players can decode it).' }),
    rungs: z
      .array(
        z.object({
          name: z.string(),
          height: z.number().int(),
          videoBitrateKbps: z.number().int(),
          maxFps: z.number().optional(),
        }),
      )
      .meta({ description: "The renditions it encodes, in the configuration's order; none for passthrough." }),
  })
  .meta({ id: 'Profile' });

export const ProfileList = z.object({ data: z.array(ProfileBody) }).meta({ id: 'ProfileList' });

const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

export const PlaybackTokenCreate = z
  .object({
    expiresInSeconds: z
      .number()
      .int()
      .min(1)
      .max(366 * 86400)
      .meta({ description: 'Required: the token stops working this many seconds from now (at most a year).' }),
    origins: z
      .array(z.string().regex(ORIGIN, 'must be an origin such as https://example.com'))
      .min(1)
      .max(20)
      .optional()
      .meta({ description: 'Pages allowed to embed the player (`frame-ancestors`) or fetch the stream from a browser; any when absent.' }),
    viewerId: z
      .string()
      .regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 printable ASCII characters')
      .optional()
      .meta({ description: 'Every player using this token is counted as this one viewer.' }),
  })
  .strict()
  .meta({ id: 'PlaybackTokenCreate' });

export const PlaybackTokenBody = z
  .object({
    token: z.string().meta({ description: 'Pass it as the `token` query parameter of the master playlist, watch or embed URL.' }),
    expiresAt: isoTime,
    hlsUrl: z.string().meta({ description: 'The master playlist URL with the token.' }),
    playerUrl: z.string().meta({ description: 'The watch page URL with the token.' }),
  })
  .meta({ id: 'PlaybackToken' });

export const PlaybackKeyCreate = z
  .object({ name: text(100).optional() })
  .strict()
  .meta({ id: 'PlaybackKeyCreate' });

export const PlaybackKeyBody = z
  .object({
    id: z.string().meta({ description: 'The `kid` of the tokens it signs.' }),
    name: z.string(),
    createdAt: isoTime,
    revokedAt: isoTime.nullable(),
  })
  .meta({ id: 'PlaybackKey' });

export const PlaybackKeyWithSecret = PlaybackKeyBody.extend({
  secret: z.string().meta({ description: 'The HMAC-SHA256 key, base64url. Shown only here.' }),
}).meta({ id: 'PlaybackKeyWithSecret' });

export const DestinationParams = IdParams.extend({
  destinationId: z
    .string()
    .regex(/^[A-Za-z0-9]{16}$/)
    .meta({ description: "The destination's id." }),
});

export const DestinationCreate = z
  .object({
    url: z
      .string()
      .max(1024)
      .regex(/^rtmps?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[^\s?#]+)+$/, 'must be rtmp:// or rtmps:// with a host and an application, e.g. rtmps://live.example.com:443/app')
      .meta({ description: "The platform's server URL, without the key, e.g. rtmp://a.rtmp.youtube.com/live2." }),
    streamKey: z
      .string()
      .regex(/^[\x21-\x7e]{1,512}$/, 'must be 1 to 512 printable characters without spaces')
      .meta({ description: 'The key the platform gave. Never shown back in full.' }),
  })
  .strict()
  .meta({ id: 'DestinationCreate' });

export const DestinationBody = z
  .object({
    id: z.string(),
    url: z.string(),
    streamKey: z.string().meta({ description: 'Its last four characters only, e.g. ****k3Xy.' }),
    status: z
      .enum(DESTINATION_STATUSES)
      .meta({ description: '`idle` while the stream is not live; `connecting`, `live`, `retrying` (with `lastError`) or `failed` (given up until the next session) while it is.' }),
    lastError: z.string().nullable(),
    createdAt: isoTime,
  })
  .meta({ id: 'Destination' });

export const CurrentTokenBody = z
  .object({
    id: z.string().meta({ description: '`env` for ADMIN_TOKEN.' }),
    name: z.string(),
    scope: z.enum(['admin', 'read']),
  })
  .meta({ id: 'CurrentToken' });

export const StreamStatsBody = z
  .object({
    intervalSeconds: z.number(),
    data: z.array(
      z.object({
        at: isoTime,
        ingestKbps: z.number().nullable(),
        viewers: z.number().int(),
        transcoderSpeed: z.number().nullable(),
      }),
    ),
  })
  .meta({ id: 'StreamStats' });
