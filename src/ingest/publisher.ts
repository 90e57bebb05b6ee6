import type { MediaTag } from './media';

/** Why a publisher's connection ended, as seen by ingest. */
export type PublisherCloseReason = 'client_closed' | 'unpublished' | 'idle_timeout' | 'protocol_error' | 'kicked' | 'server_closing';

export interface PublisherListener {
  media(tag: MediaTag): void;
  close(reason: PublisherCloseReason): void;
}

/** An accepted RTMP publisher, as the live layer sees it: media in, a close event, and a way to cut it off. */
export interface Publisher {
  readonly id: string;
  readonly clientAddress: string;
  readonly connectedAt: number;
  readonly bytesIn: number;
  readonly lastDataAt: number;
  /** One listener: the live session that owns this publisher. */
  listen(listener: PublisherListener): void;
  disconnect(): void;
}

export interface PublishAttempt {
  connectionId: string;
  clientAddress: string;
  /** A secret: never log it. */
  streamKey: string;
}

export interface Refusal {
  ok: false;
  /** Short machine-readable reason for logs and metrics. */
  reason: string;
  /** Sent to the publisher in the RTMP error status. */
  message: string;
  /** BadName means "this name is taken or wrong"; Denied means "not allowed". */
  code: 'NetStream.Publish.BadName' | 'NetStream.Publish.Denied';
}

export type AdmitResult = { ok: true; sessionId: string } | Refusal;

export type GateDecision = { ok: true; admit(publisher: Publisher): AdmitResult } | Refusal;

/**
 * Decides on a publish before the publisher is told anything. check() may be slow (database);
 * admit() is synchronous so that two publishers checked at once cannot both get in.
 */
export interface PublishGate {
  check(attempt: PublishAttempt): Promise<GateDecision>;
}
