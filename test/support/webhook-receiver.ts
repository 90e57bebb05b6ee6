import http from 'node:http';
import type net from 'node:net';

export interface ReceivedHook {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

/**
 * A local endpoint for webhook deliveries. `respond` decides the status of each request (by
 * default 200); everything received is kept in order.
 */
export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  respond: (hook: ReceivedHook, index: number) => number = () => 200;
  /** How long to wait before answering each request. */
  answerAfterMs: (hook: ReceivedHook, index: number) => number = () => 0;
  private server: http.Server | undefined;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = http.createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const hook = { headers: request.headers, body, json, at: Date.now() };
        this.received.push(hook);
        const index = this.received.length - 1;
        response.statusCode = this.respond(hook, index);
        setTimeout(() => response.end(), this.answerAfterMs(hook, index));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  ofType(type: string): ReceivedHook[] {
    return this.received.filter((hook) => hook.json?.type === type);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
