import type net from 'node:net';
import { secretFingerprint } from '../streams/keys';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { isDatabaseUnavailable } from '../db/availability';
import type { FailureGuard } from '../security/failure-guard';
import { RtmpProtocol, RtmpProtocolError, type PublishRequest, type RtmpProtocolLimits } from './nms-rtmp-protocol';
import type { MediaTag } from './media';
import type { ReadRounds } from './read-rounds';
import { KeyframeCadence } from './keyframe-cadence';
import type { PublishGate, Publisher, PublisherCloseReason, PublisherListener, Refusal } from './publisher';

export interface RtmpConnectionOptions {
  app: string;
  limits: RtmpProtocolLimits;
  /** From connect to an answered publish. A client that takes longer is cut off. */
  setupTimeoutMs: number;
  /** No bytes from the client for this long ends the connection (RTMP v4 in NMS has no ping). */
  idleTimeoutMs: number;
  authorizeTimeoutMs: number;
  /** Publishing is refused on connections that are not RTMPS. */
  tlsRequired: boolean;
}

/** Refusals that say the key was wrong: these count as guesses. */
const GUESSES = new Set(['malformed_key', 'unknown_key']);

/**
 * Media is read as it comes from a little before a keyframe is due until this long after one
 * arrived: ffmpeg cuts a segment there once it has the keyframe and the audio that follows it.
 */
const UNBATCHED_AFTER_KEYFRAME_MS = 250;
const UNBATCHED_BEFORE_KEYFRAME_MS = 100;

/** How long a client gets to read our last status message and go before the socket is destroyed. */
const LINGER_MS = 1000;

/** One RTMP client socket: protocol, timeouts, and the publish decision. */
export class RtmpConnection implements Publisher {
  readonly connectedAt = Date.now();
  bytesIn = 0;
  lastDataAt = Date.now();
  private readonly protocol: RtmpProtocol;
  private readonly log: Logger;
  private listener: PublisherListener | undefined;
  private closeReason: PublisherCloseReason = 'client_closed';
  private closed = false;
  private readonly setupTimer: NodeJS.Timeout;
  private readonly cadence = new KeyframeCadence();

  constructor(
    readonly id: string,
    private readonly socket: net.Socket,
    /** The socket's peer, or the client a balancer connected for (PROXY protocol). */
    readonly clientAddress: string,
    /** Over TLS (RTMPS). */
    readonly secure: boolean,
    private readonly options: RtmpConnectionOptions,
    private readonly gate: PublishGate,
    private readonly guard: FailureGuard,
    private readonly readRounds: ReadRounds,
    logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.log = logger.child({ connection: id, client: this.clientAddress, ...(secure && { tls: true }) });
    this.protocol = new RtmpProtocol(
      {
        output: (data) => this.write(data),
        publish: (request) => void this.onPublish(request),
        play: () => this.endGently(),
        unpublish: () => this.onUnpublish(),
        media: (tag) => this.onMedia(tag),
      },
      options.limits,
    );
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.setTimeout(options.idleTimeoutMs);
    socket.on('timeout', () => this.end('idle_timeout'));
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', (error) => this.log.debug({ err: error.message }, 'rtmp socket error'));
    socket.on('close', () => this.onClose());
    this.setupTimer = setTimeout(() => {
      if (!this.protocol.isPublishing) {
        this.log.info('rtmp client did not start publishing in time; closing');
        this.end('idle_timeout');
      }
    }, options.setupTimeoutMs);
  }

  listen(listener: PublisherListener): void {
    this.listener = listener;
  }

  disconnect(): void {
    this.end('kicked');
  }

  /** Used at shutdown. */
  end(reason: PublisherCloseReason): void {
    if (this.closed) return;
    this.closeReason = reason;
    this.socket.destroy();
  }

  private write(data: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  private onData(data: Buffer): void {
    this.bytesIn += data.length;
    this.lastDataAt = Date.now();
    try {
      this.protocol.feed(data);
    } catch (error) {
      if (error instanceof RtmpProtocolError) {
        this.log.info({ err: error.message }, 'rtmp protocol error; closing connection');
      } else {
        this.log.error({ err: error }, 'unexpected error while handling rtmp data; closing connection');
      }
      this.end('protocol_error');
    }
  }

  private onMedia(tag: MediaTag): void {
    this.cadence.observe(tag);
    this.listener?.media(tag);
  }

  private async onPublish(request: PublishRequest): Promise<void> {
    if (request.app !== this.options.app) {
      return this.refuse(
        {
          ok: false,
          reason: 'unknown_app',
          code: 'NetStream.Publish.Denied',
          message: `Unknown application "${request.app.slice(0, 64)}": publish to rtmp://<host>:<port>/${this.options.app}`,
        },
        request.streamName,
      );
    }
    if (this.options.tlsRequired && !this.secure) {
      return this.refuse(
        {
          ok: false,
          reason: 'tls_required',
          code: 'NetStream.Publish.Denied',
          message: `This server takes streams over RTMPS only: publish to rtmps://<host>:<rtmps port>/${this.options.app}`,
        },
        request.streamName,
      );
    }
    const verdict = this.guard.verdict(this.clientAddress);
    if (verdict.blocked) {
      return this.refuse(
        {
          ok: false,
          reason: 'too_many_failures',
          code: 'NetStream.Publish.Denied',
          message: 'Too many wrong stream keys from this address; try again later.',
        },
        request.streamName,
      );
    }
    // Slowing answers down makes guessing keys from one address impractical.
    if (verdict.delayMs > 0) await sleep(verdict.delayMs);
    if (this.closed) return;
    let refusal: Refusal;
    try {
      const decision = await withTimeout(
        this.gate.check({ connectionId: this.id, clientAddress: this.clientAddress, streamKey: request.streamName }),
        this.options.authorizeTimeoutMs,
      );
      if (this.closed) return;
      if (decision.ok) {
        const admitted = decision.admit(this);
        if (admitted.ok) {
          clearTimeout(this.setupTimer);
          this.metrics.publishes.inc({ result: 'accepted', reason: 'ok' });
          this.log.info({ session: admitted.sessionId }, 'publish accepted');
          this.protocol.accept();
          // Only media is read in rounds: the handshake and the publish answer are not delayed.
          const beforeKeyframeMs = this.readRounds.intervalMs + UNBATCHED_BEFORE_KEYFRAME_MS;
          this.readRounds.add(this.socket, () => this.cadence.midGop(UNBATCHED_AFTER_KEYFRAME_MS, beforeKeyframeMs));
          return;
        }
        refusal = admitted;
      } else {
        refusal = decision;
      }
    } catch (error) {
      if (this.closed) return;
      const timedOut = error instanceof TimeoutError;
      const unavailable = isDatabaseUnavailable(error);
      if (unavailable) this.metrics.databaseErrors.inc({ kind: 'unavailable' });
      this.log.error({ err: timedOut || unavailable ? (error as Error).message : error }, 'publish could not be authorized');
      // Never let a publisher in unchecked: no answer from the database is a refusal.
      refusal = {
        ok: false,
        reason: timedOut ? 'authorize_timeout' : unavailable ? 'database_unavailable' : 'authorize_failed',
        code: 'NetStream.Publish.Denied',
        message: 'The server cannot check stream keys right now; try again shortly.',
      };
    }
    this.refuse(refusal, request.streamName);
  }

  private refuse(refusal: Refusal, streamKey: string): void {
    this.metrics.publishes.inc({ result: 'refused', reason: refusal.reason });
    if (GUESSES.has(refusal.reason) && this.guard.recordFailure(this.clientAddress)) {
      this.log.warn('too many wrong stream keys from this address: it is refused for a while');
    }
    this.log.warn({ reason: refusal.reason, keyFingerprint: secretFingerprint(streamKey) }, `publish refused: ${refusal.message}`);
    this.protocol.refuse(refusal.code, refusal.message);
    this.endGently();
  }

  /** Lets the client read the last status message, then makes sure the socket goes away. */
  private endGently(): void {
    this.protocol.close();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  /**
   * The publisher said it stops and was answered: its session ends now. The client closes the
   * connection once it has read the answer (GStreamer's rtmp2sink reports a connection the server
   * closes first as an error, even a half-close); one that stays is cut off.
   */
  private onUnpublish(): void {
    this.listener?.close('unpublished');
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.setupTimer);
    const wasPublishing = this.protocol.isPublishing;
    this.protocol.close();
    if (wasPublishing) this.listener?.close(this.closeReason);
  }
}

class TimeoutError extends Error {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
