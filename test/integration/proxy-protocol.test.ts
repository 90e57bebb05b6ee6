import { RtmpTestClient } from '../../scripts/lib/rtmp-client';
import { withoutNodeLabel } from '../support/metrics';
import { createStream, useTestOrigin } from '../support/origin';
import { waitFor } from '../support/wait';

jest.setTimeout(60_000);

/** Behind HAProxy with send-proxy (deploy/haproxy/rtmp.cfg): the client's address comes from the PROXY line. */
describe('RTMP behind a balancer that sends the PROXY protocol (ingest.proxyProtocol)', () => {
  const env = useTestOrigin({ overrides: { ingest: { proxyProtocol: true, maxConnectionsPerAddress: 2, handshakeTimeoutSeconds: 2 } } });
  const connectAs = async (address: string) => {
    const client = await RtmpTestClient.connect(env.origin.rtmpPort);
    client.send(Buffer.from(`PROXY TCP4 ${address} 127.0.0.1 40000 1935\r\n`));
    return client;
  };

  test('the publisher is the address in the PROXY line: in the session, and for the per-address limit', async () => {
    const stream = await createStream(env.origin, 'Behind HAProxy');
    const publisher = await connectAs('203.0.113.7');
    await publisher.handshake();
    publisher.sendPublishSequence('live', stream.streamKey, env.origin.rtmpPort);
    expect(await publisher.nextStatus()).toMatchObject({ code: 'NetStream.Publish.Start' });
    expect(env.origin.registry.getByStreamId(stream.id)?.info().clientAddress).toBe('203.0.113.7');

    // Two from one address are let in (the limit here), a third is closed; another address is not limited by them.
    const [one, two] = [await connectAs('198.51.100.1'), await connectAs('198.51.100.1')];
    await Promise.all([one.handshake(), two.handshake()]);
    const third = await connectAs('198.51.100.1');
    await waitFor(() => third.closed, { what: 'the third connection from one address to be closed', timeoutMs: 5000 });
    const elsewhere = await connectAs('198.51.100.2');
    await elsewhere.handshake();
    expect(elsewhere.closed).toBe(false);
    for (const client of [publisher, one, two, elsewhere]) client.close();
  });

  test('a connection without the PROXY line, or with a malformed one, is closed and counted', async () => {
    const direct = await RtmpTestClient.connect(env.origin.rtmpPort);
    direct.send(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
    const forged = await RtmpTestClient.connect(env.origin.rtmpPort);
    forged.send(Buffer.from('PROXY TCP4 not-an-address 127.0.0.1 1 2\r\n'));
    const silent = await RtmpTestClient.connect(env.origin.rtmpPort);
    await waitFor(() => direct.closed && forged.closed && silent.closed, { what: 'the three connections to be closed', timeoutMs: 10_000 });
    const metric = withoutNodeLabel(await env.origin.metrics.registry.getSingleMetricAsString('origin_rtmp_connections_rejected_total'));
    expect(metric).toContain('limit="proxy_header"} 3');
    expect(
      env.origin.logs
        .filter((l) => l.msg === 'closed an RTMP connection without a valid PROXY protocol line')
        .map((l) => l.reason)
        .sort(),
    ).toEqual(['malformed PROXY line', 'no PROXY line', 'no PROXY line in time']);
  });
});
