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
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
