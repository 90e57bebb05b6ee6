import net from 'node:net';
import { randomBase62 } from '../streams/keys';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { RtmpConnection, type RtmpConnectionOptions } from './rtmp-connection';
import type { FailureGuard } from '../security/failure-guard';
import type { PublishGate } from './publisher';
import { parseProxyHeader } from './proxy-header';
import { ReadRounds } from './read-rounds';

export interface RtmpServerOptions extends RtmpConnectionOptions {
  host: string;
  port: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Publishing sockets are read in rounds this far apart; 0 reads every message as it comes. */
  readIntervalMs: number;
  /**
   * Behind a balancer that sends the PROXY protocol (v1): every connection starts with it, and the
   * client's address is taken from it. A connection without it is closed.
   */
  proxyProtocol: boolean;
}

/** Our own listener: NMS's server classes exit the process on a listen error (nms-notes.md). */
export class RtmpServer {
  private readonly server: net.Server;
  private readonly connections = new Set<RtmpConnection>();
  private readonly perAddress = new Map<string, number>();
  private readonly readRounds: ReadRounds;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly options: RtmpServerOptions,
    private readonly gate: PublishGate,
    private readonly guard: FailureGuard,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.readRounds = new ReadRounds(options.readIntervalMs);
    this.server = net.createServer((socket) => (options.proxyProtocol ? this.readProxyHeader(socket) : this.onSocket(socket, socket.remoteAddress ?? 'unknown')));
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', onError);
        this.server.on('error', (error) => this.logger.error({ err: error }, 'rtmp listener error'));
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /**
   * Stops accepting connections at once. Live publishers are cut off separately, through their
   * sessions; the returned promise resolves when the last connection has gone.
   */
  stopAccepting(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    return this.closed;
  }

  /** Whatever is still connected (not publishing, or not yet) is closed. */
  closeAll(): void {
    for (const connection of this.connections) connection.end('server_closing');
  }

  /** The balancer's line first, within the handshake time; then the connection, with the client's address. */
  private readProxyHeader(socket: net.Socket): void {
    let received = Buffer.alloc(0);
    const refuse = (reason: string) => {
      clearTimeout(timer);
      socket.off('data', onData);
      this.metrics.rtmpRejected.inc({ limit: 'proxy_header' });
      this.logger.warn({ client: socket.remoteAddress, reason }, 'closed an RTMP connection without a valid PROXY protocol line');
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const header = parseProxyHeader(received);
      if (header.ok === 'more') return;
      if (!header.ok) return refuse(header.reason);
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      if (received.length > header.length) socket.unshift(received.subarray(header.length));
      this.onSocket(socket, header.clientAddress ?? socket.remoteAddress ?? 'unknown');
      socket.resume();
    };
    const timer = setTimeout(() => refuse('no PROXY line in time'), this.options.setupTimeoutMs);
    socket.on('error', () => undefined);
    socket.on('data', onData);
  }

  /** Over a limit, a socket is closed before a byte is read: nothing to parse, nothing held. */
  private onSocket(socket: net.Socket, address: string): void {
    const fromAddress = this.perAddress.get(address) ?? 0;
    const limit =
      this.connections.size >= this.options.maxConnections ? 'total' : fromAddress >= this.options.maxConnectionsPerAddress ? 'per_address' : undefined;
    if (limit) {
      this.metrics.rtmpRejected.inc({ limit });
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const connection = new RtmpConnection(randomBase62(10), socket, address, this.options, this.gate, this.guard, this.readRounds, this.logger, this.metrics);
    this.connections.add(connection);
    this.perAddress.set(address, fromAddress + 1);
    this.metrics.rtmpConnections.inc();
    socket.once('close', () => {
      this.connections.delete(connection);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
      this.metrics.rtmpConnections.dec();
    });
  }
}
