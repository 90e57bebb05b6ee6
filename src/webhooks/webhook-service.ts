import { generateId, randomBase62 } from '../streams/keys';
import type { WebhookEvent, WebhookEventType } from './events';
import type { Webhook, WebhookRepository } from './webhook-repository';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

export interface WebhookInput {
  url: string;
  description?: string;
  events: WebhookEventType[];
}

/**
 * Operators' endpoints, and the outbox: an event becomes one delivery row per subscribed endpoint,
 * written before anything is sent, so a restart loses none.
 */
export class WebhookService {
  constructor(
    private readonly repository: WebhookRepository,
    private readonly now: () => number = Date.now,
    /** Called once deliveries are in the outbox, so that they can be sent at once. */
    private readonly onQueued: () => void = () => undefined,
  ) {}

  async register(input: WebhookInput): Promise<Webhook> {
    const webhook: Webhook = {
      id: generateId(),
      url: input.url,
      description: input.description ?? '',
      events: input.events,
      secret: newSecret(),
      enabled: true,
      createdAt: this.now(),
    };
    await this.repository.insert(webhook);
    return webhook;
  }

  list(): Promise<Webhook[]> {
    return this.repository.list();
  }

  get(id: string): Promise<Webhook | undefined> {
    return this.repository.findById(id);
  }

  async update(id: string, changes: Partial<WebhookInput> & { enabled?: boolean }): Promise<Webhook | undefined> {
    await this.repository.update(id, changes);
    return this.repository.findById(id);
  }

  async rotateSecret(id: string): Promise<Webhook | undefined> {
    await this.repository.update(id, { secret: newSecret() });
    return this.repository.findById(id);
  }

  delete(id: string): Promise<boolean> {
    return this.repository.delete(id);
  }

  deliveries(webhookId: string, limit: number, after?: Parameters<WebhookRepository['pageDeliveries']>[2]) {
    return this.repository.pageDeliveries(webhookId, limit, after);
  }

  /** Records the event for every enabled endpoint subscribed to it. */
  async emit(type: WebhookEventType, data: Record<string, unknown>): Promise<WebhookEvent> {
    const createdAt = this.now();
    const event: WebhookEvent = { id: generateId(), type, createdAt: new Date(createdAt).toISOString(), data };
    const payload = JSON.stringify(event);
    const targets = (await this.repository.list()).filter((webhook) => webhook.enabled && webhook.events.includes(type));
    await this.repository.enqueue(targets.map((webhook) => ({ id: generateId(), webhookId: webhook.id, eventId: event.id, eventType: type, payload, createdAt })));
    if (targets.length > 0) this.onQueued();
    return event;
  }
}

function newSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBase62(32);
}
