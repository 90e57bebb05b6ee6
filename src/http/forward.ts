import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream';
import type { Logger } from '../observability/logger';
import { clientAddress } from './client-address';
import { CLIENT_ADDRESS_HEADER } from './delivery-processes';
import { errorBody } from './errors';

/** Headers about one connection, not the request: each hop sets its own (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);

/**
 * Sends a request on as it came (method, path unless `target` names one, headers but `replaced`,
 * an undefined one removed, body) and its answer back as it is given: streamed both ways, so a held request stays held. A
 * failure before the answer started is a 503 with what `onFailure` says as its message.
 */
export function relay(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: http.RequestOptions,
  replaced: Record<string, string | undefined>,
  onFailure: (error: Error) => string,
): void {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && !(name in replaced)) headers[name] = value;
  for (const [name, value] of Object.entries(replaced)) if (value !== undefined) headers[name] = value;
  const send = target.protocol === 'https:' ? https.request : http.request;
  const upstream = send({ path: req.url, ...target, method: req.method, headers }, (answer) => {
    const raw = answer.rawHeaders;
    const kept: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) kept.push(raw[i]!, raw[i + 1]!);
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, kept);
    pipeline(answer, res, () => undefined);
  });
  upstream.on('error', (error) => {
    if (res.headersSent || res.destroyed) return void res.destroy();
    const body = JSON.stringify(errorBody('service_unavailable', onFailure(error)));
    res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
    res.end(body);
  });
  // A viewer who leaves stops the request upstream too (a held one would otherwise wait on).
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  pipeline(req, upstream, () => undefined);
}

/**
 * A delivery process's way to the origin: the request with the client's address, over the origin's
 * private socket.
 */
export function forwarder(socketPath: string, trustProxy: boolean, logger: Logger): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const agent = new http.Agent({ keepAlive: true });
  return (req, res) =>
    relay(req, res, { socketPath, agent }, { [CLIENT_ADDRESS_HEADER]: clientAddress(req, trustProxy) }, (error) => {
      logger.error({ err: error, method: req.method, path: req.url }, 'cannot forward a request to the origin');
      return 'The origin did not answer; try again.';
    });
}
