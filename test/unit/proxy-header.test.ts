import { parseProxyHeader } from '../../src/ingest/proxy-header';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('PROXY protocol v1 lines', () => {
  test('the client address and the line length, from TCP4 and TCP6 lines; what follows is left alone', () => {
    expect(parseProxyHeader(bytes('PROXY TCP4 203.0.113.7 10.0.0.2 51234 1935\r\n\x03rtmp'))).toEqual({ ok: true, length: 44, clientAddress: '203.0.113.7' });
    expect(parseProxyHeader(bytes('PROXY TCP6 2001:db8::1 2001:db8::2 4000 1935\r\n'))).toEqual({ ok: true, length: 46, clientAddress: '2001:db8::1' });
    expect(parseProxyHeader(bytes('PROXY UNKNOWN\r\n'))).toEqual({ ok: true, length: 15, clientAddress: undefined });
  });

  test('an incomplete line asks for more; anything else is refused with a reason', () => {
    expect(parseProxyHeader(bytes('PRO'))).toEqual({ ok: 'more' });
    expect(parseProxyHeader(bytes('PROXY TCP4 203.0.113.7'))).toEqual({ ok: 'more' });
    const refusals = [
      '\x03\x00\x00\x00\x00\x00\x00\x00',
      'PROXY TCP4 203.0.113.7 10.0.0.2 51234\r\n',
      'PROXY TCP4 2001:db8::1 10.0.0.2 1 2\r\n',
      'PROXY TCP6 203.0.113.7 10.0.0.2 1 2\r\n',
      'PROXY TCP4 203.0.113.7 10.0.0.2 70000 1935\r\n',
      'PROXY TCP4 999.0.113.7 10.0.0.2 1 1935\r\n',
      'PROXY UDP4 203.0.113.7 10.0.0.2 1 1935\r\n',
      `PROXY TCP4 ${'1'.repeat(120)}`,
      'GET / HTTP/1.1\r\n',
    ];
    for (const line of refusals) expect(parseProxyHeader(bytes(line))).toMatchObject({ ok: false });
  });
});
