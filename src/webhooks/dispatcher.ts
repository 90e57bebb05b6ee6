import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { PeriodicTask } from '../periodic-task';
import { signPayload } from './signature';
import type { Delivery, WebhookRepository } from './webhook-repository';

export interface DispatcherOptions {
  pollMs: number;
  /** Waits between attempts; one attempt more than there are waits, then the delivery fails. */
  retrySeconds: readonly number[];
  timeoutMs: number;
  /** How long a claimed delivery is this node's to send. */
  leaseMs: number;
  batch: number;
}

/** Sends what the outbox holds, signs it, and retries with backoff. */
export class WebhookDispatcher {
  private readonly task: PeriodicTask;

  constructor(
    private readonly repository: WebhookRepository,
    private readonly options: DispatcherOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    this.task = new PeriodicTask(
      options.pollMs,
      () => this.sendDue(),
      (error) => logger.warn({ err: error }, 'webhook dispatch failed; will retry'),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  tick(): Promise<void> {
    return this.task.run();
  }

  /** Deliveries were queued here: sent now, not at the next poll, which is for retries and other nodes' events. */
  wake(): void {
    this.task.wake();
  }

  private async sendDue(): Promise<void> {
    const deliveries = await this.repository.claimDue(this.now(), this.options.leaseMs, this.options.batch);
    // One endpoint's deliveries go one after another, in the outbox's order, so that it sees a
    // stream's events in the order they happened (sent side by side, `idle` could overtake
    // `disconnected`); different endpoints are served side by side.
    const byWebhook = new Map<string, Delivery[]>();
    for (const delivery of deliveries) byWebhook.set(delivery.webhookId, [...(byWebhook.get(delivery.webhookId) ?? []), delivery]);
    await Promise.all(
      [...byWebhook.values()].map(async (queue) => {
        for (const delivery of queue) await this.send(delivery);
      }),
    );
  }

  private async send(delivery: Delivery): Promise<void> {
    const webhook = await this.repository.findById(delivery.webhookId);
    if (!webhook) {
      await this.repository.settle(delivery.id, { ...this.unchanged(delivery), status: 'failed', lastError: 'webhook deleted' });
      return;
    }
    const attempts = delivery.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'live-origin-webhooks/1',
          'x-origin-event': delivery.eventType,
          'x-origin-delivery': delivery.id,
          'x-origin-signature': signPayload(webhook.secret, Math.floor(this.now() / 1000), delivery.payload),
        },
        body: delivery.payload,
      });
      status = response.status;
      await response.body?.cancel();
      if (status >= 200 && status < 300) {
        await this.repository.settle(delivery.id, {
          status: 'succeeded',
          attempts,
          nextAttemptAt: delivery.nextAttemptAt,
          lastStatus: status,
          lastError: null,
          deliveredAt: this.now(),
        });
        this.metrics.webhookDeliveries.inc({ outcome: 'succeeded' });
        return;
      }
      error = `HTTP ${status}`;
    } catch (thrown) {
      error = (thrown as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : (thrown as Error).message.slice(0, 200);
    }
    const wait = this.options.retrySeconds[attempts - 1];
    const failed = wait === undefined;
    await this.repository.settle(delivery.id, {
      status: failed ? 'failed' : 'pending',
      attempts,
      nextAttemptAt: failed ? delivery.nextAttemptAt : this.now() + wait * 1000,
      lastStatus: status,
      lastError: error,
      deliveredAt: null,
    });
    this.metrics.webhookDeliveries.inc({ outcome: failed ? 'failed' : 'retried' });
    this.logger.warn({ webhook: webhook.id, delivery: delivery.id, attempts, error }, failed ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry');
  }

  private unchanged(delivery: Delivery) {
    return { attempts: delivery.attempts, nextAttemptAt: delivery.nextAttemptAt, lastStatus: delivery.lastStatus, lastError: delivery.lastError, deliveredAt: null };
  }
}
