import client from 'prom-client';

/** One registry per origin instance (tests run several in one process). Labels never carry keys. */
export function createMetrics() {
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
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
