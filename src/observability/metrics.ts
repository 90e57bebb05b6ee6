import client from 'prom-client';
import type { StallFigures } from './event-loop-stalls';

export interface MetricSources {
  /** Every metric is labelled with it, so that a cluster's nodes can be told apart once scraped together. */
  node?: string;
  /** Streams with viewers now, by playback id. */
  viewerCounts: () => Map<string, number>;
  /** The live sessions of this node now. */
  liveStreams: () => Array<{ playbackId: string; ingestKbps?: number; transcoderSpeed?: number; restream?: string[] }>;
  /** Playlist and part requests held now, in every process that answers viewers; absent, 0. */
  heldRequests?: () => number;
  /** Event-loop stalls since the last scrape (the origin's sampler); absent, the figures read 0. */
  eventLoopStalls?: { intervalMs: number; read: () => StallFigures };
}

/** prom-client's lag histogram counts its own sampling interval; ours replaces it, and its timer is parked (24 days). */
const PARKED_PRECISION_MS = 2 ** 31 - 1;
const STALL_FIGURES = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const;

/** One registry per origin instance (tests run several in one process). Labels never carry keys. */
export function createMetrics(sources: MetricSources) {
  const registry = new client.Registry();
  if (sources.node !== undefined) registry.setDefaultLabels({ node: sources.node });
  client.collectDefaultMetrics({ register: registry, prefix: 'origin_', eventLoopMonitoringPrecision: PARKED_PRECISION_MS });
  const noStalls: StallFigures = { min: 0, max: 0, mean: 0, stddev: 0, p50: 0, p90: 0, p99: 0 };
  const stalls = sources.eventLoopStalls ?? { intervalMs: 0, read: () => noStalls };
  const stallGauges = new Map<(typeof STALL_FIGURES)[number], client.Gauge>();
  for (const figure of STALL_FIGURES) {
    const name = `origin_nodejs_eventloop_lag_${figure}_seconds`;
    registry.removeSingleMetric(name);
    stallGauges.set(
      figure,
      new client.Gauge({
        name,
        help: `Event-loop stalls since the last scrape, ${figure}: how late a timer due every ${stalls.intervalMs} ms ran`,
        registers: [registry],
        // The registry reads its metrics in the order they were made: the first one reads the window for all.
        ...(figure === STALL_FIGURES[0] && {
          collect() {
            const figures = stalls.read();
            for (const [key, gauge] of stallGauges) gauge.set(figures[key]);
          },
        }),
      }),
    );
  }
  const metrics = {
    registry,
    rtmpConnections: new client.Gauge({ name: 'origin_rtmp_connections', help: 'Open RTMP connections', registers: [registry] }),
    rtmpRejected: new client.Counter({
      name: 'origin_rtmp_connections_rejected_total',
      help: 'RTMP connections closed at once for being over a limit',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    publishes: new client.Counter({
      name: 'origin_publishes_total',
      help: 'Publish attempts by result and reason',
      labelNames: ['result', 'reason'] as const,
      registers: [registry],
    }),
    liveStreams: new client.Gauge({ name: 'origin_live_streams', help: 'Live sessions on this node', registers: [registry] }),
    transcoderExits: new client.Counter({
      name: 'origin_transcoder_exits_total',
      help: 'ffmpeg exits by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    transcoderRestarts: new client.Counter({
      name: 'origin_transcoder_restarts_total',
      help: 'ffmpeg restarts within a session, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    posterRenders: new client.Counter({
      name: 'origin_poster_renders_total',
      help: 'Posters made from a segment, by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    transcoderSlow: new client.Counter({
      name: 'origin_transcoder_slow_total',
      help: 'Transcoders that stayed slower than real time, by what was done: economy (cheaper encoding), ended (still too slow)',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    transcoderStalls: new client.Counter({ name: 'origin_transcoder_stalls_total', help: 'Transcoders found stalled by the watchdog', registers: [registry] }),
    transcoderBacklog: new client.Counter({
      name: 'origin_transcoder_backlog_events_total',
      help: 'Transcoders falling behind their input: warned, or ended',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    webhookDeliveries: new client.Counter({
      name: 'origin_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    sourceWarnings: new client.Counter({
      name: 'origin_source_warnings_total',
      help: 'Sources with a property that degrades the output, by warning',
      labelNames: ['warning'] as const,
      registers: [registry],
    }),
    ingestBitrate: new client.Gauge({
      name: 'origin_ingest_bitrate_kbps',
      help: 'What each live stream receives from its publisher, kbit/s over the last seconds',
      labelNames: ['playback_id'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const stream of sources.liveStreams()) if (stream.ingestKbps !== undefined) this.set({ playback_id: stream.playbackId }, stream.ingestKbps);
      },
    }),
    transcoderSpeed: new client.Gauge({
      name: 'origin_transcoder_speed',
      help: "Each live stream's ffmpeg speed (1 = real time; below 1 it falls behind)",
      labelNames: ['playback_id'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const stream of sources.liveStreams()) if (stream.transcoderSpeed !== undefined) this.set({ playback_id: stream.playbackId }, stream.transcoderSpeed);
      },
    }),
    restreamDestinations: new client.Gauge({
      name: 'origin_restream_destinations',
      help: "Each live stream's restream destinations by status (connecting, live, retrying, failed)",
      labelNames: ['playback_id', 'status'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const stream of sources.liveStreams()) {
          for (const status of stream.restream ?? []) this.inc({ playback_id: stream.playbackId, status });
        }
      },
    }),
    restreamFailures: new client.Counter({
      name: 'origin_restream_failures_total',
      help: 'Attempts to restream that a destination refused, dropped or never answered',
      registers: [registry],
    }),
    hlsRequests: new client.Counter({
      name: 'origin_hls_requests_total',
      help: 'HLS requests by kind of file and status',
      labelNames: ['kind', 'status'] as const,
      registers: [registry],
    }),
    hlsBytes: new client.Counter({
      name: 'origin_hls_bytes_total',
      help: 'HLS bytes sent, by kind of file',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    heldRequests: new client.Gauge({
      name: 'origin_hls_held_requests',
      help: 'Blocking playlist reloads and part requests waiting now, in every process that answers viewers',
      registers: [registry],
      collect() {
        this.set(sources.heldRequests?.() ?? 0);
      },
    }),
    holds: new client.Counter({
      name: 'origin_hls_holds_total',
      help: 'Held requests by how they ended: ready, timeout (503), full (503 at once, past hls.maxHeldRequests), gone (the session ended), closed (the client left)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    databaseErrors: new client.Counter({
      name: 'origin_database_errors_total',
      help: 'Failed database queries, and requests or publishes turned away because the database was unreachable',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    uncaughtErrors: new client.Counter({
      name: 'origin_uncaught_errors_total',
      help: 'Errors nothing handled, caught by the last-resort handlers (each is a bug)',
      registers: [registry],
    }),
    viewers: new client.Gauge({
      name: 'origin_viewers',
      help: 'Concurrent viewers by stream (player sessions polling a live playlist); a stream without viewers has no series',
      labelNames: ['playback_id'] as const,
      registers: [registry],
      // Read at scrape time from the counter, so a stream's series goes with its last viewer.
      collect() {
        this.reset();
        for (const [playbackId, count] of sources.viewerCounts()) this.set({ playback_id: playbackId }, count);
      },
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** HLS answers into the metrics: one at a time from the origin's handler, in batches from delivery processes. */
export function countHlsAnswers(metrics: Metrics, kind: string, status: number, requests: number, bytes: number): void {
  metrics.hlsRequests.inc({ kind, status: String(status) }, requests);
  if (bytes > 0) metrics.hlsBytes.inc({ kind }, bytes);
}
