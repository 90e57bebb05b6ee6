import net from 'node:net';

/** A PROXY protocol v1 line is at most this long, CRLF included (the HAProxy specification, 2.1). */
export const MAX_PROXY_HEADER = 107;

export type ProxyHeader = { ok: true; length: number; clientAddress: string | undefined } | { ok: false; reason: string } | { ok: 'more' };

/**
 * The PROXY protocol v1 line a balancer (HAProxy's `send-proxy`) sends before the client's first
 * byte: `PROXY TCP4 <client> <proxy> <client port> <proxy port>\r\n`. Returns the client's address
 * and the line's length; `more` while the line is incomplete. `PROXY UNKNOWN` (the balancer's own
 * checks) has no client address.
 */
export function parseProxyHeader(data: Buffer): ProxyHeader {
  const end = data.indexOf('\r\n');
  if (end === -1) return data.length < MAX_PROXY_HEADER && 'PROXY '.startsWith(data.subarray(0, 6).toString('latin1')) ? { ok: 'more' } : { ok: false, reason: 'no PROXY line' };
  if (end + 2 > MAX_PROXY_HEADER) return { ok: false, reason: 'PROXY line too long' };
  const fields = data.subarray(0, end).toString('latin1').split(' ');
  if (fields[0] !== 'PROXY') return { ok: false, reason: 'no PROXY line' };
  if (fields[1] === 'UNKNOWN') return { ok: true, length: end + 2, clientAddress: undefined };
  const [, family, source, destination, sourcePort, destinationPort] = fields;
  const version = family === 'TCP4' ? 4 : family === 'TCP6' ? 6 : 0;
  const port = (value: string | undefined) => value !== undefined && /^\d{1,5}$/.test(value) && Number(value) <= 65535;
  if (fields.length !== 6 || version === 0 || net.isIP(source ?? '') !== version || net.isIP(destination ?? '') !== version || !port(sourcePort) || !port(destinationPort)) {
    return { ok: false, reason: 'malformed PROXY line' };
  }
  return { ok: true, length: end + 2, clientAddress: source };
}
