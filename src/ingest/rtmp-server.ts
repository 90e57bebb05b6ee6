import net from 'node:net';
import { randomBase62 } from '../streams/keys';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { RtmpConnection, type RtmpConnectionOptions } from './rtmp-connection';
import type { PublishGate } from './publisher';

export interface RtmpServerOptions extends RtmpConnectionOptions {
  host: string;
  port: number;
}

/** Our own listener: NMS's server classes exit the process on a listen error (nms-notes.md). */
export class RtmpServer {
  private readonly server: net.Server;
  private readonly connections = new Set<RtmpConnection>();
  private closed: Promise<void> | undefined;

  constructor(
    private readonly options: RtmpServerOptions,
    private readonly gate: PublishGate,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
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

  private onSocket(socket: net.Socket): void {
    const connection = new RtmpConnection(randomBase62(10), socket, this.options, this.gate, this.logger, this.metrics);
    this.connections.add(connection);
    this.metrics.rtmpConnections.inc();
    socket.once('close', () => {
      this.connections.delete(connection);
      this.metrics.rtmpConnections.dec();
    });
  }
}
