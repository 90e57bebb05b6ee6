import client from 'prom-client';

export interface MetricSources {
  /** Streams with viewers now, by playback id. */
  viewerCounts: () => Map<string, number>;
}

/** One registry per origin instance (tests run several in one process). Labels never carry keys. */
export function createMetrics(sources: MetricSources) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'origin_' });
  const metrics = {
    registry,
    rtmpConnections: new client.Gauge({ name: 'origin_rtmp_connections', help: 'Open RTMP connections', registers: [registry] }),
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
