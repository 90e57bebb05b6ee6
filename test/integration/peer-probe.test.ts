import net from 'node:net';
import { refusesConnections } from '../../src/cluster/peer-probe';
import { freePort } from '../../scripts/lib/ports';

describe('whether a node is certainly gone', () => {
  test('a port nothing listens on refuses: gone; a listening port, or a URL that is none, proves nothing', async () => {
    expect(await refusesConnections(`http://127.0.0.1:${await freePort()}`)).toBe(true);
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      expect(await refusesConnections(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`)).toBe(false);
    } finally {
      server.close();
    }
    expect(await refusesConnections('not a url')).toBe(false);
  });
});
