import type { Database } from '../db/knex';
import { fetchPage, type Page, type PagePosition } from '../db/page';
import type { WebhookEventType } from './events';

export interface Webhook {
  id: string;
  url: string;
  description: string;
  events: WebhookEventType[];
  secret: string;
  enabled: boolean;
  createdAt: number;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface Delivery {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

interface WebhookRow {
  id: string;
  url: string;
  description: string;
  events: string;
  secret: string;
  enabled: number | boolean;
  created_at: number | string;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number | string;
  lease_until: number | string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number | string;
  delivered_at: number | string | null;
}

function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: JSON.parse(row.events) as WebhookEventType[],
    secret: row.secret,
    enabled: Boolean(row.enabled),
    createdAt: Number(row.created_at),
  };
}

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventType: row.event_type,
    payload: row.payload,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    nextAttemptAt: Number(row.next_attempt_at),
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at),
  };
}

export class WebhookRepository {
  constructor(private readonly db: Database) {}

  async insert(webhook: Webhook): Promise<void> {
    await this.db<WebhookRow>('webhooks').insert({
      id: webhook.id,
      url: webhook.url,
      description: webhook.description,
      events: JSON.stringify(webhook.events),
      secret: webhook.secret,
      enabled: webhook.enabled,
      created_at: webhook.createdAt,
    });
  }

  async findById(id: string): Promise<Webhook | undefined> {
    const row = await this.db<WebhookRow>('webhooks').where({ id }).first();
    return row && toWebhook(row);
  }

  async list(): Promise<Webhook[]> {
    return (
      await this.db<WebhookRow>('webhooks').orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
    ).map(toWebhook);
  }

  async update(id: string, changes: Partial<Pick<Webhook, 'url' | 'description' | 'events' | 'enabled' | 'secret'>>): Promise<void> {
    const row: Partial<WebhookRow> = {};
    if (changes.url !== undefined) row.url = changes.url;
    if (changes.description !== undefined) row.description = changes.description;
    if (changes.events !== undefined) row.events = JSON.stringify(changes.events);
    if (changes.enabled !== undefined) row.enabled = changes.enabled;
    if (changes.secret !== undefined) row.secret = changes.secret;
    if (Object.keys(row).length > 0) await this.db<WebhookRow>('webhooks').where({ id }).update(row);
  }

  /** The endpoint and its pending deliveries; the delivery log of sent ones stays. */
  async delete(id: string): Promise<boolean> {
    const deleted = await this.db<WebhookRow>('webhooks').where({ id }).delete();
    await this.db<DeliveryRow>('webhook_deliveries').where({ webhook_id: id, status: 'pending' }).update({ status: 'failed', last_error: 'webhook deleted' });
    return deleted > 0;
  }

  async enqueue(deliveries: Array<Pick<Delivery, 'id' | 'webhookId' | 'eventId' | 'eventType' | 'payload' | 'createdAt'>>): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db<DeliveryRow>('webhook_deliveries').insert(
      deliveries.map((d) => ({
        id: d.id,
        webhook_id: d.webhookId,
        event_id: d.eventId,
        event_type: d.eventType,
        payload: d.payload,
        status: 'pending',
        attempts: 0,
        next_attempt_at: d.createdAt,
        lease_until: null,
        last_status: null,
        last_error: null,
        created_at: d.createdAt,
        delivered_at: null,
      })),
    );
  }

  /**
   * Takes up to `limit` due deliveries for `leaseMs`. A claim is a conditional update, so two nodes
   * never send the same delivery at once; a node that dies mid-send loses its lease.
   */
  async claimDue(now: number, leaseMs: number, limit: number): Promise<Delivery[]> {
    const due = await this.db<DeliveryRow>('webhook_deliveries')
      .where({ status: 'pending' })
      .andWhere('next_attempt_at', '<=', now)
      .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
      .orderBy([{ column: 'next_attempt_at' }, { column: 'created_at' }])
      .limit(limit);
    const claimed: Delivery[] = [];
    for (const row of due) {
      const updated = await this.db<DeliveryRow>('webhook_deliveries')
        .where({ id: row.id, status: 'pending' })
        .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
        .update({ lease_until: now + leaseMs });
      if (updated === 1) claimed.push(toDelivery(row));
    }
    return claimed;
  }

  async settle(
    id: string,
    outcome: { status: DeliveryStatus; attempts: number; nextAttemptAt: number; lastStatus: number | null; lastError: string | null; deliveredAt: number | null },
  ): Promise<void> {
    await this.db<DeliveryRow>('webhook_deliveries').where({ id }).update({
      status: outcome.status,
      attempts: outcome.attempts,
      next_attempt_at: outcome.nextAttemptAt,
      lease_until: null,
      last_status: outcome.lastStatus,
      last_error: outcome.lastError,
      delivered_at: outcome.deliveredAt,
    });
  }

  /** Newest first. */
  async pageDeliveries(webhookId: string, limit: number, after?: PagePosition): Promise<Page<Delivery>> {
    return fetchPage(this.db<DeliveryRow>('webhook_deliveries').where({ webhook_id: webhookId }), 'created_at', limit, after, toDelivery);
  }
}
