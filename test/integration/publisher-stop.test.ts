import { commandMessage, RtmpTestClient } from '../../scripts/lib/rtmp-client';
import { startGstPublisher } from '../support/gstreamer';
import { createStream, useTestOrigin } from '../support/origin';
import { waitFor } from '../support/wait';

jest.setTimeout(90_000);

describe('a publisher that stops on purpose (FCUnpublish, deleteStream)', () => {
  const env = useTestOrigin({ overrides: { live: { reconnectWindowSeconds: 30 } } });

  const endedSession = (streamId: string) =>
    waitFor(
      async () => {
        const sessions = (await env.origin.api('GET', `/api/v1/streams/${streamId}/sessions`)).body.data as Array<{ endReason: string | null }>;
        return sessions[0]?.endReason ? sessions[0] : undefined;
      },
      { what: 'the session to end', timeoutMs: 10_000 },
    );

  /** A stream, and an RTMP client publishing to it. */
  const publishing = async (name: string) => {
    const stream = await createStream(env.origin, name);
    const client = await RtmpTestClient.connect(env.origin.rtmpPort);
    await client.handshake();
    client.sendPublishSequence('live', stream.streamKey, env.origin.rtmpPort);
    expect(await client.nextStatus()).toMatchObject({ code: 'NetStream.Publish.Start' });
    return { stream, client };
  };

  test('is answered (onFCUnpublish, then NetStream.Unpublish.Success on the published stream) and ends the session at once; the client closes', async () => {
    const { stream, client } = await publishing('Stops');

    // As ffmpeg and OBS send them: both on the connection's message stream, deleteStream naming stream 1.
    client.send(commandMessage('FCUnpublish', 4, null, stream.streamKey));
    client.send(commandMessage('deleteStream', 5, null, 1));
    expect(await client.nextCommand('onStatus', 'NetStream.Unpublish.Success')).toBeDefined();
    expect(client.commands.slice(-2)).toEqual([
      { name: 'onFCUnpublish', streamId: 0, code: 'NetStream.Unpublish.Success' },
      { name: 'onStatus', streamId: 1, code: 'NetStream.Unpublish.Success' },
    ]);
    // The answer leaves the connection open: closing it is the client's part.
    expect(client.closed).toBe(false);
    client.close();
    // Ended by the deleteStream: a dropped connection would wait 30 s for the publisher to return.
    expect((await endedSession(stream.id)).endReason).toBe('publisher_left');
  });

  test('a client that does not close after its deleteStream is disconnected', async () => {
    const { client } = await publishing('Lingers');
    client.send(commandMessage('deleteStream', 4, null, 1));
    await waitFor(() => client.closed, { what: 'the server to close the connection', timeoutMs: 10_000 });
    expect(client.statuses.at(-1)).toMatchObject({ code: 'NetStream.Unpublish.Success' });
  });

  test('GStreamer (rtmp2sink): its end of stream is a clean stop on both sides, it exits 0 without an error', async () => {
    const stream = await createStream(env.origin, 'GStreamer', { profile: 'passthrough' });
    const publisher = startGstPublisher({ url: env.origin.rtmpUrl(stream.streamKey), seconds: 6 });

    await waitFor(() => env.hls.master(stream.playbackId), { what: 'the master playlist', timeoutMs: 20_000 });
    const exit = await publisher.exited;
    // rtmp2sink sends FCUnpublish and deleteStream, then closes; a connection the server closes
    // before that is "connection closed remotely", an error for the pipeline.
    expect(exit.stderr).not.toMatch(/closed remotely|ERROR/i);
    expect(exit.code).toBe(0);
    expect((await endedSession(stream.id)).endReason).toBe('publisher_left');
  });
});
