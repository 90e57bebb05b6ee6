import { FRAME_KEY, IS_EX_HEADER, PACKET_SEQUENCE_START, startEnhancedPublisher, type EnhancedPublisher } from '../../scripts/lib/enhanced-rtmp-publisher';
import { chunkMessage, RtmpTestClient } from '../../scripts/lib/rtmp-client';
import { parseMediaPlaylist } from '../../scripts/lib/media-playlist';
import { countDecodedFrames, probeStreams, videoPackets } from '../support/ffprobe';
import { cmafInput, parseMaster } from '../support/hls';
import { createStream, useTestOrigin, type TestOrigin } from '../support/origin';
import { waitFor } from '../support/wait';

jest.setTimeout(150_000);

/** The master once every rendition it names has two complete segments, and each rendition's playlist URL. */
async function liveRenditions(origin: TestOrigin, playbackId: string) {
  const masterUrl = `${origin.urls.publicUrl}/hls/${playbackId}/master.m3u8`;
  const master = await waitFor(
    async () => {
      const response = await fetch(masterUrl);
      return response.status === 200 ? parseMaster(await response.text()) : undefined;
    },
    { what: 'the master', timeoutMs: 60_000 },
  );
  const urls = new Map(master.variants.map((variant) => [variant.uri.split('/').at(-2)!, new URL(variant.uri, masterUrl).toString()]));
  for (const url of urls.values()) {
    await waitFor(async () => parseMediaPlaylist(await (await fetch(url)).text()).segments.length >= 2, { what: `two segments of ${url}`, timeoutMs: 60_000 });
  }
  return { master, urls };
}

describe('HEVC and AV1 over Enhanced RTMP', () => {
  const env = useTestOrigin();
  const publishers: EnhancedPublisher[] = [];
  afterEach(async () => {
    for (const publisher of publishers.splice(0)) await publisher.stop();
  });

  test('HEVC: the source is copied as HEVC with its codec string, and H.264 renditions (its own size included) are encoded from it with keyframes at the same instants', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'HEVC in', { reconnectWindowSeconds: 0 });
    const publisher = await startEnhancedPublisher({ port: origin.rtmpPort, streamKey: stream.streamKey, codec: 'hevc', width: 640, height: 360 });
    publishers.push(publisher);
    expect(publisher.answer?.code).toBe('NetStream.Publish.Start');
    const { master, urls } = await liveRenditions(origin, stream.playbackId);

    // The source in HEVC for the players that decode it; H.264 at every rung for the rest.
    const byName = new Map(master.variants.map((variant) => [variant.uri.split('/').at(-2)!, variant]));
    expect(byName.get('source')?.attributes.CODECS).toMatch(/^hvc1\.1\.6\.L\d+\.[0-9A-F]+,mp4a\.40\.2$/);
    expect(byName.get('source')?.attributes.RESOLUTION).toBe('640x360');
    expect(byName.get('360p')?.attributes.CODECS).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    const live = (await origin.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession;
    expect(live.ingest.video).toMatchObject({ codec: 'hevc', width: 640, height: 360 });

    for (const [name, codec] of [
      ['source', 'hevc'],
      ['360p', 'h264'],
    ] as const) {
      const url = urls.get(name)!;
      const playlist = parseMediaPlaylist(await (await fetch(url)).text());
      const segment = playlist.segments.at(-1)!;
      const input = cmafInput(origin.config.mediaDir, url, segment);
      const [video] = (await probeStreams(input)).filter((s) => s.codec_type === 'video');
      expect({ name, codec: video?.codec_name, width: video?.width, height: video?.height }).toEqual({ name, codec, width: 640, height: 360 });
      expect(await countDecodedFrames(input)).toBeGreaterThan(30);
      // Each segment starts with a keyframe (the copied one's are the publisher's).
      expect((await videoPackets(input, true))[0]?.keyframe).toBe(true);
    }
    // The renditions cut their segments at the same instants.
    const sequences = await Promise.all(
      ['source', '360p'].map(async (name) => parseMediaPlaylist(await (await fetch(urls.get(name)!)).text()).segments.map((s) => `${s.sequence}:${s.duration.toFixed(2)}`)),
    );
    const common = sequences[0]!.filter((entry) => sequences[1]!.includes(entry));
    expect(common.length).toBeGreaterThanOrEqual(2);
    await origin.registry.stopStream(stream.id, 'kicked');
  });

  test('AV1, passthrough: packaged as AV1 in fMP4 with its codec string; AV1 with the ladder: H.264 encoded from it', async () => {
    const { origin } = env;
    const passthrough = await createStream(origin, 'AV1 in', { profile: 'passthrough', reconnectWindowSeconds: 0 });
    publishers.push(await startEnhancedPublisher({ port: origin.rtmpPort, streamKey: passthrough.streamKey, codec: 'av1', width: 640, height: 360 }));
    const copied = await liveRenditions(origin, passthrough.playbackId);
    expect(copied.master.variants.map((variant) => variant.attributes.CODECS)).toEqual([expect.stringMatching(/^av01\.0\.\d{2}M\.08,mp4a\.40\.2$/)]);
    const url = copied.urls.get('source')!;
    const segment = parseMediaPlaylist(await (await fetch(url)).text()).segments.at(-1)!;
    const input = cmafInput(origin.config.mediaDir, url, segment);
    expect((await probeStreams(input)).find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'av1', width: 640, height: 360 });
    expect(await countDecodedFrames(input)).toBeGreaterThan(30);
    await origin.registry.stopStream(passthrough.id, 'kicked');

    const ladder = await createStream(origin, 'AV1 ladder', { reconnectWindowSeconds: 0 });
    publishers.push(await startEnhancedPublisher({ port: origin.rtmpPort, streamKey: ladder.streamKey, codec: 'av1', width: 640, height: 360 }));
    const encoded = await liveRenditions(origin, ladder.playbackId);
    expect([...encoded.urls.keys()].sort()).toEqual(['360p', 'source']);
    const rung = encoded.urls.get('360p')!;
    const rungSegment = parseMediaPlaylist(await (await fetch(rung)).text()).segments.at(-1)!;
    expect((await probeStreams(cmafInput(origin.config.mediaDir, rung, rungSegment))).find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', height: 360 });
    await origin.registry.stopStream(ladder.id, 'kicked');
  });

  test('VP9 is refused with a clear reason', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'VP9 in', { reconnectWindowSeconds: 0 });
    // Nothing here encodes VP9 into MP4 for the test publisher: a sequence start and frames with the
    // FourCC are all the origin looks at before it refuses.
    const client = await RtmpTestClient.connect(origin.rtmpPort);
    try {
      await client.handshake();
      client.sendPublishSequence('live', stream.streamKey, origin.rtmpPort);
      expect((await client.nextStatus())?.code).toBe('NetStream.Publish.Start');
      const vp09 = Buffer.from('vp09', 'latin1');
      const video = (timestamp: number, packetType: number) =>
        client.send(
          chunkMessage({
            csid: 6,
            type: 9,
            streamId: 1,
            timestamp,
            payload: Buffer.concat([Buffer.from([IS_EX_HEADER | (FRAME_KEY << 4) | packetType]), vp09, Buffer.alloc(16, 1)]),
          }),
        );
      video(0, PACKET_SEQUENCE_START);
      for (let i = 0; i < 10; i++) video(i * 33, 3);
      const reason = await waitFor(async () => (await origin.sessions.listByStream(stream.id, 1))[0]?.endReason ?? undefined, { what: 'the session to end', timeoutMs: 30_000 });
      expect(reason).toBe('unsupported_codec');
      expect(origin.logText()).toContain('video codec vp9 is not supported; send H.264, HEVC or AV1');
    } finally {
      client.close();
    }
  });
});
