import http from 'node:http';
import { pipeline } from 'node:stream';
import type { Logger } from '../observability/logger';
import { clientAddress } from './client-address';
import { CLIENT_ADDRESS_HEADER } from './delivery-processes';
import { errorBody } from './errors';

/** Headers about one connection, not the request: each hop sets its own (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);

/**
 * A delivery process's way to the origin: the request as it came (method, path, headers, body),
 * with the client's address, over the origin's private socket; the answer as the origin gave it.
 */
export function forwarder(socketPath: string, trustProxy: boolean, logger: Logger): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const agent = new http.Agent({ keepAlive: true });
  return (req, res) => {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && name !== CLIENT_ADDRESS_HEADER) headers[name] = value;
    headers[CLIENT_ADDRESS_HEADER] = clientAddress(req, trustProxy);
    const upstream = http.request({ socketPath, agent, method: req.method, path: req.url, headers }, (answer) => {
      const raw = answer.rawHeaders;
      const kept: string[] = [];
      for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) kept.push(raw[i]!, raw[i + 1]!);
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, kept);
      pipeline(answer, res, () => undefined);
    });
    upstream.on('error', (error) => {
      if (res.headersSent || req.destroyed) return void res.destroy();
      logger.error({ err: error, method: req.method, path: req.url }, 'cannot forward a request to the origin');
      const body = JSON.stringify(errorBody('service_unavailable', 'The origin did not answer; try again.'));
      res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(body);
    });
    pipeline(req, upstream, () => undefined);
  };
}
