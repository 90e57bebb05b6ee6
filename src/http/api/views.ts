import type { AuditEntry } from '../../audit/audit-log';
import type { NodeRecord } from '../../cluster/node-registry';
import type { PlaybackKeyRecord } from '../../playback/playback-key-repository';
import type { DestinationRecord } from '../../restream/destination-repository';
import type { ApiTokenRecord } from '../../streams/token-repository';
import type { Delivery, Webhook } from '../../webhooks/webhook-repository';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function tokenView(token: ApiTokenRecord) {
  return { id: token.id, name: token.name, scope: token.scope, createdAt: iso(token.createdAt), lastUsedAt: isoOrNull(token.lastUsedAt), revokedAt: isoOrNull(token.revokedAt) };
}

/** The secret only where it is handed out (creation, rotation). */
export function webhookView(webhook: Webhook, withSecret = false) {
  return {
    id: webhook.id,
    url: webhook.url,
    description: webhook.description,
    events: webhook.events,
    enabled: webhook.enabled,
    createdAt: iso(webhook.createdAt),
    ...(withSecret && { secret: webhook.secret }),
  };
}

export function deliveryView(delivery: Delivery) {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: delivery.status === 'pending' ? iso(delivery.nextAttemptAt) : null,
    lastStatus: delivery.lastStatus,
    lastError: delivery.lastError,
    createdAt: iso(delivery.createdAt),
    deliveredAt: isoOrNull(delivery.deliveredAt),
  };
}

export function auditView(entry: AuditEntry) {
  return {
    id: entry.id,
    at: iso(entry.at),
    token: { id: entry.tokenId, name: entry.tokenName },
    action: entry.action,
    target: entry.target,
    outcome: entry.outcome,
    status: entry.status,
  };
}

export function nodeView(node: NodeRecord) {
  const { drainDeadlineAt, ...rest } = node;
  return { ...rest, startedAt: iso(node.startedAt), lastSeenAt: iso(node.lastSeenAt), draining: drainDeadlineAt !== null, drainDeadline: isoOrNull(drainDeadlineAt) };
}

export function playbackKeyView(key: PlaybackKeyRecord) {
  return { id: key.id, name: key.name, createdAt: iso(key.createdAt), revokedAt: isoOrNull(key.revokedAt) };
}

/** The key is never shown back: its last four characters say which one it is. */
export function destinationView(destination: DestinationRecord, live: boolean) {
  const key = destination.streamKey;
  return {
    id: destination.id,
    url: destination.url,
    streamKey: `****${key.length > 8 ? key.slice(-4) : ''}`,
    // A status left by a node that died mid-stream is not shown once the stream is not live.
    status: live ? destination.status : 'idle',
    lastError: live ? destination.lastError : null,
    createdAt: iso(destination.createdAt),
  };
}
