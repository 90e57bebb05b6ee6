import net from 'node:net';
import { randomBase62 } from '../streams/keys';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { RtmpConnection, type RtmpConnectionOptions } from './rtmp-connection';
import type { FailureGuard } from '../security/failure-guard';
import type { PublishGate } from './publisher';
import { ReadRounds } from './read-rounds';

export interface RtmpServerOptions extends RtmpConnectionOptions {
  host: string;
  port: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Publishing sockets are read in rounds this far apart; 0 reads every message as it comes. */
  readIntervalMs: number;
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
    this.server = net.createServer((socket) => this.onSocket(socket));
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

  /** Over a limit, a socket is closed before a byte is read: nothing to parse, nothing held. */
  private onSocket(socket: net.Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = this.perAddress.get(address) ?? 0;
    const limit =
      this.connections.size >= this.options.maxConnections ? 'total' : fromAddress >= this.options.maxConnectionsPerAddress ? 'per_address' : undefined;
    if (limit) {
      this.metrics.rtmpRejected.inc({ limit });
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const connection = new RtmpConnection(randomBase62(10), socket, this.options, this.gate, this.guard, this.readRounds, this.logger, this.metrics);
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
