import net from 'node:net';
import tls from 'node:tls';
import { randomBase62 } from '../streams/keys';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { RtmpConnection, type RtmpConnectionOptions } from './rtmp-connection';
import type { FailureGuard } from '../security/failure-guard';
import type { PublishGate } from './publisher';
import { parseProxyHeader } from './proxy-header';
import type { ReadRounds } from './read-rounds';

export interface RtmpServerOptions extends RtmpConnectionOptions {
  host: string;
  port: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Publishing sockets are read in these rounds. */
  readRounds: ReadRounds;
  /**
   * Behind a balancer that sends the PROXY protocol (v1): every connection starts with it, and the
   * client's address is taken from it. A connection without it is closed.
   */
  proxyProtocol: boolean;
  /** RTMPS: a second listener whose connections start with a TLS handshake, with these credentials. */
  tls?: { port: number; credentials: { readonly current: tls.SecureContext } };
}

/** Our own listener: NMS's server classes exit the process on a listen error (nms-notes.md). */
export class RtmpServer {
  private readonly server: net.Server;
  private readonly tlsServer: net.Server | undefined;
  /** TLS handshakes under way: they count against the connection limit. */
  private handshaking = 0;
  private readonly connections = new Set<RtmpConnection>();
  private readonly perAddress = new Map<string, number>();
  private closed: Promise<void> | undefined;

  constructor(
    private readonly options: RtmpServerOptions,
    private readonly gate: PublishGate,
    private readonly guard: FailureGuard,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.server = net.createServer((socket) => this.accept(socket, false));
    // A plain TCP listener, with TLS begun by hand on each socket: the PROXY line a balancer sends
    // comes before the TLS handshake.
    this.tlsServer = options.tls && net.createServer((socket) => this.accept(socket, true));
  }

  /** The plain listener's port, and the RTMPS one's if there is one. */
  async listen(): Promise<{ port: number; tlsPort?: number }> {
    const port = await this.bind(this.server, this.options.port, 'rtmp');
    if (!this.tlsServer || !this.options.tls) return { port };
    try {
      return { port, tlsPort: await this.bind(this.tlsServer, this.options.tls.port, 'rtmps') };
    } catch (error) {
      this.server.close();
      throw error;
    }
  }

  private bind(server: net.Server, port: number, name: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      server.listen(port, this.options.host, () => {
        server.off('error', onError);
        server.on('error', (error) => this.logger.error({ err: error }, `${name} listener error`));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  private accept(socket: net.Socket, secure: boolean): void {
    const next = (address: string) => (secure ? this.startTls(socket, address) : this.onSocket(socket, address, false));
    if (this.options.proxyProtocol) this.readProxyHeader(socket, next);
    else next(socket.remoteAddress ?? 'unknown');
  }

  /**
   * The TLS handshake, within the time a plain client has for RTMP's own: a client that does not
   * finish it (a plain RTMP client, a scanner, one that sends nothing) is closed, and logged.
   */
  private startTls(socket: net.Socket, address: string): void {
    if (this.overLimit(address)) {
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.handshaking++;
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: this.options.tls!.credentials.current });
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      this.handshaking--;
      clearTimeout(timer);
      return true;
    };
    const refuse = (reason: string) => {
      if (!settle()) return;
      this.metrics.rtmpRejected.inc({ limit: 'tls_handshake' });
      this.logger.info({ client: address, reason }, 'closed an RTMPS connection whose TLS handshake failed');
      secure.destroy();
      socket.destroy();
    };
    const timer = setTimeout(() => refuse('no TLS handshake in time'), this.options.setupTimeoutMs);
    secure.once('secure', () => {
      if (settle()) this.onSocket(secure, address, true);
    });
    secure.on('error', (error: NodeJS.ErrnoException) => refuse(error.code ?? error.message));
    socket.on('error', () => undefined);
  }

  /**
   * Stops accepting connections at once. Live publishers are cut off separately, through their
   * sessions; the returned promise resolves when the last connection has gone.
   */
  stopAccepting(): Promise<void> {
    const close = (server: net.Server | undefined) => new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
    this.closed ??= Promise.all([close(this.server), close(this.tlsServer)]).then(() => undefined);
    return this.closed;
  }

  /** Whatever is still connected (not publishing, or not yet) is closed. */
  closeAll(): void {
    for (const connection of this.connections) connection.end('server_closing');
  }

  /** The balancer's line first, within the handshake time; then the connection, with the client's address. */
  private readProxyHeader(socket: net.Socket, next: (address: string) => void): void {
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
      next(header.clientAddress ?? socket.remoteAddress ?? 'unknown');
      socket.resume();
    };
    const timer = setTimeout(() => refuse('no PROXY line in time'), this.options.setupTimeoutMs);
    socket.on('error', () => undefined);
    socket.on('data', onData);
  }

  /** Over a limit, a socket is closed before a byte is read: nothing to parse, nothing held. */
  private overLimit(address: string): boolean {
    const fromAddress = this.perAddress.get(address) ?? 0;
    const limit =
      this.connections.size + this.handshaking >= this.options.maxConnections ? 'total' : fromAddress >= this.options.maxConnectionsPerAddress ? 'per_address' : undefined;
    if (!limit) return false;
    this.metrics.rtmpRejected.inc({ limit });
    return true;
  }

  private onSocket(socket: net.Socket, address: string, secure: boolean): void {
    if (this.overLimit(address)) {
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const fromAddress = this.perAddress.get(address) ?? 0;
    const connection = new RtmpConnection(randomBase62(10), socket, address, secure, this.options, this.gate, this.guard, this.options.readRounds, this.logger, this.metrics);
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
