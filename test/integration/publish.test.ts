import fs from 'node:fs';
import path from 'node:path';
import { parseMediaPlaylist, lastSequence } from '../../src/hls/media-playlist';
import { commandMessage, RtmpTestClient } from '../../scripts/lib/rtmp-client';
import { countDecodedVideoFrames, probeStreams, videoPackets } from '../support/ffprobe';
import { createStream, startTestOrigin, type TestOrigin } from '../support/origin';
import { ffmpegProcessesMentioning, startPublisher, stopAllProcesses } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(90_000);

const RENDITIONS = [
  { name: '720p', width: 1280, height: 720 },
  { name: '480p', width: 854, height: 480 },
  { name: '360p', width: 640, height: 360 },
];

async function fetchText(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

describe('a key-checked RTMP push becomes an HLS ladder', () => {
  let origin: TestOrigin;

  beforeAll(async () => {
    origin = await startTestOrigin();
  });
  afterEach(() => stopAllProcesses());
  afterAll(() => origin.close());

  test('10 s of 720p30 with a tone: every rung, advancing playlists, aligned decodable segments, ENDLIST, no ffmpeg left', async () => {
    const stream = await createStream(origin, 'Ladder');
    const base = `${origin.urls.publicUrl}/hls/${stream.playbackId}`;
    const publisher = startPublisher({ url: origin.rtmpUrl(stream.streamKey), seconds: 10 });

    const master = await waitFor(async () => {
      const response = await fetchText(`${base}/master.m3u8`);
      return response.status === 200 && response;
    }, { what: 'the master playlist', timeoutMs: 15_000 });
    expect(master.type).toBe('application/vnd.apple.mpegurl');
    for (const rendition of RENDITIONS) {
      expect(master.text).toMatch(
        new RegExp(`#EXT-X-STREAM-INF:BANDWIDTH=\\d+,AVERAGE-BANDWIDTH=\\d+,RESOLUTION=${rendition.width}x${rendition.height},FRAME-RATE=30.000,CODECS="avc1\\.[0-9a-f]{6},mp4a\\.40\\.2",AUDIO="audio"\\n${rendition.name}/index.m3u8`),
      );
    }
    expect(master.text).toContain('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio"');
    expect((await origin.api('GET', `/api/v1/streams/${stream.id}`)).body.status).toBe('live');

    // Every media playlist exists as soon as the master does, and keeps advancing.
    const sequences = new Map<string, number>();
    for (const name of [...RENDITIONS.map((r) => r.name), 'audio']) {
      const playlist = await fetchText(`${base}/${name}/index.m3u8`);
      expect(playlist.status).toBe(200);
      sequences.set(name, lastSequence(parseMediaPlaylist(playlist.text)) ?? -1);
    }
    await waitFor(async () => {
      const playlist = parseMediaPlaylist((await fetchText(`${base}/720p/index.m3u8`)).text);
      return (lastSequence(playlist) ?? -1) >= sequences.get('720p')! + 2;
    }, { what: 'two more 720p segments', timeoutMs: 10_000 });

    const exit = await publisher.exited;
    expect(exit.code).toBe(0);

    // The publisher left: ffmpeg stops, playlists end, nothing lingers.
    await waitFor(() => origin.registry.getByStreamId(stream.id) === undefined, { what: 'the session to end', timeoutMs: 15_000 });
    const streamDir = path.join(origin.config.mediaDir, 'live', stream.playbackId);
    const playlists = new Map<string, ReturnType<typeof parseMediaPlaylist>>();
    for (const name of [...RENDITIONS.map((r) => r.name), 'audio']) {
      const playlist = parseMediaPlaylist(fs.readFileSync(path.join(streamDir, name, 'index.m3u8'), 'utf8'));
      expect(playlist.endList).toBe(true);
      playlists.set(name, playlist);
    }
    expect(ffmpegProcessesMentioning(origin.dir)).toEqual([]);
    expect((await origin.api('GET', `/api/v1/streams/${stream.id}`)).body.status).toBe('idle');
    expect(origin.logText()).not.toContain(stream.streamKey.slice(3));

    // Each rung decodes at its size; the audio rendition is AAC.
    for (const rendition of RENDITIONS) {
      const playlist = playlists.get(rendition.name)!;
      const full = playlist.segments.find((s) => s.duration > 1.9)!;
      const file = path.join(streamDir, rendition.name, full.uri);
      const [video] = await probeStreams(file);
      expect(video).toMatchObject({ codec_type: 'video', codec_name: 'h264', width: rendition.width, height: rendition.height });
      expect(await countDecodedVideoFrames(file)).toBeGreaterThanOrEqual(59);
    }
    const audioPlaylist = playlists.get('audio')!;
    const [audio] = await probeStreams(path.join(streamDir, 'audio', audioPlaylist.segments[0]!.uri));
    expect(audio).toMatchObject({ codec_type: 'audio', codec_name: 'aac', channels: 2 });

    // Segment boundaries line up: same sequence numbers, same durations, same first keyframe time.
    const reference = playlists.get('720p')!;
    for (const rendition of RENDITIONS.slice(1)) {
      const other = playlists.get(rendition.name)!;
      expect(other.mediaSequence).toBe(reference.mediaSequence);
      expect(other.segments.map((s) => [s.uri, s.duration])).toEqual(reference.segments.map((s) => [s.uri, s.duration]));
    }
    for (const segment of reference.segments) {
      const starts = [];
      for (const rendition of RENDITIONS) {
        const packets = await videoPackets(path.join(streamDir, rendition.name, segment.uri));
        expect(packets[0]?.keyframe).toBe(true);
        starts.push(packets[0]!.pts_time);
      }
      expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(0.001);
    }
    expect(reference.segments.filter((s) => s.duration > 1.9).every((s) => Math.abs(s.duration - 2) < 0.01)).toBe(true);
  });

  test('a wrong key: the publishing ffmpeg fails, no transcoder starts, no files are written', async () => {
    const liveDir = path.join(origin.config.mediaDir, 'live');
    const before = fs.readdirSync(liveDir);
    const publisher = startPublisher({ url: origin.rtmpUrl(`sk_${'x'.repeat(32)}`), seconds: 5 });
    const exit = await publisher.exited;
    expect(exit.code).not.toBe(0);
    expect(exit.stderr).toContain('Invalid stream key');
    await sleep(500);
    expect(ffmpegProcessesMentioning(origin.dir)).toEqual([]);
    expect(fs.readdirSync(liveDir)).toEqual(before);
    const refusal = origin.logs.find((line) => line.msg === 'publish refused: Invalid stream key.');
    expect(refusal).toMatchObject({ level: 'warn', reason: 'unknown_key' });
    expect(origin.logText()).not.toContain('x'.repeat(32));
  });

  test('a disabled stream is refused before it is told it is live', async () => {
    const stream = await createStream(origin, 'Disabled');
    await origin.db('streams').where({ id: stream.id }).update({ enabled: false });
    const client = await RtmpTestClient.connect(origin.rtmpPort);
    await client.handshake();
    client.sendPublishSequence('live', stream.streamKey, origin.rtmpPort);
    const status = await client.nextStatus();
    expect(status).toEqual({ level: 'error', code: 'NetStream.Publish.Denied', description: 'This stream is disabled.' });
    expect(client.statuses.some((s) => s.code === 'NetStream.Publish.Start')).toBe(false);
    await waitFor(() => client.closed, { what: 'the refused connection to close', timeoutMs: 3000 });
    expect(fs.existsSync(path.join(origin.config.mediaDir, 'live', stream.playbackId))).toBe(false);
  });

  test('a second publisher on a live stream is refused; the first one keeps going', async () => {
    const stream = await createStream(origin, 'Busy');
    const first = startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'the first publisher to be live', timeoutMs: 15_000 });
    const second = await RtmpTestClient.connect(origin.rtmpPort);
    await second.handshake();
    second.sendPublishSequence('live', stream.streamKey, origin.rtmpPort);
    expect(await second.nextStatus()).toMatchObject({ level: 'error', code: 'NetStream.Publish.BadName' });
    await sleep(2500);
    expect(first.child.exitCode).toBeNull();
    expect(origin.registry.getByStreamId(stream.id)?.state).toBe('live');
    await first.stop();
  });

  test('malformed RTMP input closes that connection only; the server keeps working', async () => {
    const garbage = await RtmpTestClient.connect(origin.rtmpPort);
    garbage.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200)));

    // A connect command without tcUrl made NMS throw "Invalid URL" and kill its process.
    const noTcUrl = await RtmpTestClient.connect(origin.rtmpPort);
    await noTcUrl.handshake();
    noTcUrl.send(commandMessage('connect', 1, { app: 'live' }));
    await waitFor(() => noTcUrl.closed, { what: 'the bad connect to be closed', timeoutMs: 3000 });

    // A publish without a stream name.
    const noName = await RtmpTestClient.connect(origin.rtmpPort);
    await noName.handshake();
    noName.send(commandMessage('connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live' }));
    noName.send(commandMessage('publish', 2, null));
    await waitFor(() => noName.closed, { what: 'the nameless publish to be closed', timeoutMs: 3000 });

    // Publish before connect.
    const early = await RtmpTestClient.connect(origin.rtmpPort);
    await early.handshake();
    early.send(commandMessage('publish', 1, null, 'whatever', 'live'));
    await waitFor(() => early.closed, { what: 'the early publish to be closed', timeoutMs: 3000 });
    garbage.close();

    const stream = await createStream(origin, 'After garbage');
    const client = await RtmpTestClient.connect(origin.rtmpPort);
    await client.handshake();
    client.sendPublishSequence('live', stream.streamKey, origin.rtmpPort);
    expect(await client.nextStatus()).toMatchObject({ level: 'status', code: 'NetStream.Publish.Start' });
    client.close();
    expect((await origin.api('GET', '/healthz', { token: null })).status).toBe(200);
  });
});
