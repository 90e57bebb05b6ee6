export const WEBHOOK_EVENTS = ['stream.live', 'stream.idle', 'stream.disconnected', 'stream.key_reset', 'stream.deleted', 'stream.restream_failed'] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** What an endpoint receives. `data` never carries a stream key. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: Record<string, unknown>;
}
