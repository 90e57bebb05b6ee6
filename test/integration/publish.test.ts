import fs from 'node:fs';
import path from 'node:path';
import { lastSequence, type MediaPlaylist } from '../../scripts/lib/media-playlist';
import { commandMessage, RtmpTestClient } from '../../scripts/lib/rtmp-client';
import { countDecodedFrames, probeStreams, videoPackets } from '../support/ffprobe';
import { cmafInput } from '../support/hls';
import { createStream, useTestOrigin } from '../support/origin';
import { ffmpegProcessesMentioning, startPublisher } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(90_000);

const RENDITIONS = [
  { name: 'source', width: 1280, height: 720, mode: 'copy' },
  { name: '480p', width: 854, height: 480, mode: 'encode' },
  { name: '360p', width: 640, height: 360, mode: 'encode' },
];

describe('a key-checked RTMP push becomes an HLS ladder', () => {
  const env = useTestOrigin();

  test('10 s of 720p30 with a tone: every rung, advancing playlists, aligned decodable segments, ENDLIST, no ffmpeg left', async () => {
    const stream = await createStream(env.origin, 'Ladder');
    const publisher = startPublisher({ url: env.origin.rtmpUrl(stream.streamKey), seconds: 10 });

    const masterUrl = env.hls.masterUrl(stream.playbackId);
    const master = await waitFor(() => env.hls.master(stream.playbackId), { what: 'the master playlist', timeoutMs: 15_000 });
    expect((await env.hls.text(masterUrl)).headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(master.variants.map((v) => [v.attributes.RESOLUTION, v.attributes['FRAME-RATE'], v.attributes.AUDIO])).toEqual(
      RENDITIONS.map((r) => [`${r.width}x${r.height}`, '30.000', 'audio']),
    );
    for (const variant of master.variants) {
      expect(variant.attributes.CODECS).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
      expect(Number(variant.attributes.BANDWIDTH)).toBeGreaterThan(Number(variant.attributes['AVERAGE-BANDWIDTH']));
    }
    expect(master.audio).toHaveLength(1);
    expect((await env.origin.api('GET', `/api/v1/streams/${stream.id}`)).body.status).toBe('live');

    // Every playlist the master names exists as soon as the master does, and keeps advancing.
    const urls = new Map<string, string>();
    master.variants.forEach((variant, i) => urls.set(RENDITIONS[i]!.name, env.hls.resolve(masterUrl, variant.uri)));
    urls.set('audio', env.hls.resolve(masterUrl, master.audio[0]!.uri));
    for (const url of urls.values()) expect((await env.hls.media(url)).segments.length).toBeGreaterThan(0);
    const firstSeen = lastSequence(await env.hls.media(urls.get('480p')!))!;
    // When each new segment first shows up, to check its EXT-X-PROGRAM-DATE-TIME: the publisher
    // pushes in real time, so a segment cannot be listed before its last frame was captured.
    const listedAt = new Map<number, { at: number; pdt: number; duration: number }>();
    await waitFor(
      async () => {
        const playlist = await env.hls.media(urls.get('480p')!);
        for (const segment of playlist.segments) {
          if (segment.sequence > firstSeen && !listedAt.has(segment.sequence)) {
            listedAt.set(segment.sequence, { at: Date.now(), pdt: Date.parse(segment.programDateTime!), duration: segment.duration });
          }
        }
        return listedAt.size >= 2;
      },
      { what: 'two more segments', timeoutMs: 10_000, intervalMs: 50 },
    );
    // The dates start from when the run's first frame arrived. On a loaded machine the test
    // publisher's first frames can come a little late (probably its encoder starting behind -re's clock, then
    // catching up), dating the run late by as much: -157 ms once in a full CI run, against 17–77 ms
    // alone and -7 to 734 ms beside two busy loops. Dates from ffmpeg's muxer were 1.25 s late.
    // Listing late is the encoder falling behind on a loaded machine (2.3 s once in a full CI run).
    for (const { at, pdt, duration } of listedAt.values()) {
      const sinceCaptured = at - (pdt + duration * 1000);
      expect(sinceCaptured).toBeGreaterThan(-300);
      expect(sinceCaptured).toBeLessThan(4000);
    }
    const segmentUrl = env.hls.resolve(urls.get('480p')!, (await env.hls.media(urls.get('480p')!)).segments[0]!.uri);
    const segment = await fetch(segmentUrl);
    expect(segment.headers.get('content-type')).toBe('video/iso.segment');
    expect(segment.headers.get('cache-control')).toContain('immutable');

    const exit = await publisher.exited;
    expect(exit.code).toBe(0);

    // The publisher left: ffmpeg stops, playlists end, nothing lingers.
    await waitFor(() => env.origin.registry.getByStreamId(stream.id) === undefined, { what: 'the session to end', timeoutMs: 15_000 });
    const playlists = new Map<string, MediaPlaylist>();
    for (const [name, url] of urls) {
      const playlist = await env.hls.media(url);
      expect(playlist.endList).toBe(true);
      playlists.set(name, playlist);
    }
    expect(ffmpegProcessesMentioning(env.origin.dir)).toEqual([]);
    expect((await env.origin.api('GET', `/api/v1/streams/${stream.id}`)).body.status).toBe('idle');
    expect(env.origin.logText()).not.toContain(stream.streamKey.slice(3));
    const fileIn = (name: string, segment: { uri: string; map?: string }) => cmafInput(env.origin.config.mediaDir, urls.get(name)!, segment);

    // Each rung decodes at its size; the audio rendition is AAC.
    for (const rendition of RENDITIONS) {
      const full = playlists.get(rendition.name)!.segments.find((s) => s.duration > 1.9)!;
      const file = fileIn(rendition.name, full);
      const [video] = await probeStreams(file);
      expect(video).toMatchObject({ codec_type: 'video', codec_name: 'h264', width: rendition.width, height: rendition.height });
      expect(await countDecodedFrames(file)).toBeGreaterThanOrEqual(59);
    }
    const [audio] = await probeStreams(fileIn('audio', playlists.get('audio')!.segments[0]!));
    expect(audio).toMatchObject({ codec_type: 'audio', codec_name: 'aac', channels: 2 });

    // Segment boundaries line up: same sequence numbers and durations, same first keyframe time.
    const reference = playlists.get('source')!;
    for (const rendition of RENDITIONS.slice(1)) {
      const other = playlists.get(rendition.name)!;
      expect(other.mediaSequence).toBe(reference.mediaSequence);
      expect(other.segments.map((s) => s.uri)).toEqual(reference.segments.map((s) => s.uri));
      expect(other.segments.map((s) => s.programDateTime)).toEqual(reference.segments.map((s) => s.programDateTime));
      // Every segment lasts as long in every rung; the last one, cut by the end of input, within a frame.
      other.segments.forEach((segment, i) => expect(Math.abs(segment.duration - reference.segments[i]!.duration)).toBeLessThan(i === other.segments.length - 1 ? 0.034 : 0.0005));
    }
    for (const segment of reference.segments) {
      const starts = [];
      for (const rendition of RENDITIONS) {
        const own = playlists.get(rendition.name)!.segments.find((s) => s.uri === segment.uri)!;
        const packets = await videoPackets(fileIn(rendition.name, own));
        expect(packets[0]?.keyframe).toBe(true);
        starts.push(packets[0]!.pts_time);
      }
      expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(0.001);
    }
    // 2-second segments, but for the last one, which ends with the input.
    expect(reference.segments.slice(0, -1).every((s) => Math.abs(s.duration - 2) < 0.01)).toBe(true);
  });

  test('a wrong key: the publishing ffmpeg fails, no transcoder starts, no files are written', async () => {
    const liveDir = path.join(env.origin.config.mediaDir, 'live');
    const before = fs.readdirSync(liveDir);
    const publisher = startPublisher({ url: env.origin.rtmpUrl(`sk_${'x'.repeat(32)}`), seconds: 5 });
    const exit = await publisher.exited;
    expect(exit.code).not.toBe(0);
    expect(exit.stderr).toContain('Invalid stream key');
    await sleep(500);
    expect(ffmpegProcessesMentioning(env.origin.dir)).toEqual([]);
    expect(fs.readdirSync(liveDir)).toEqual(before);
    const refusal = env.origin.logs.find((line) => line.msg === 'publish refused: Invalid stream key.');
    expect(refusal).toMatchObject({ level: 'warn', reason: 'unknown_key' });
    expect(env.origin.logText()).not.toContain('x'.repeat(32));
  });

  test('a disabled stream is refused before it is told it is live', async () => {
    const stream = await createStream(env.origin, 'Disabled');
    await env.origin.db('streams').where({ id: stream.id }).update({ enabled: false });
    const client = await RtmpTestClient.connect(env.origin.rtmpPort);
    await client.handshake();
    client.sendPublishSequence('live', stream.streamKey, env.origin.rtmpPort);
    const status = await client.nextStatus();
    expect(status).toEqual({ level: 'error', code: 'NetStream.Publish.Denied', description: 'This stream is disabled.' });
    expect(client.statuses.some((s) => s.code === 'NetStream.Publish.Start')).toBe(false);
    await waitFor(() => client.closed, { what: 'the refused connection to close', timeoutMs: 3000 });
    expect(fs.existsSync(path.join(env.origin.config.mediaDir, 'live', stream.playbackId))).toBe(false);
  });

  test('a second publisher on a live stream is refused; the first one keeps going', async () => {
    const stream = await createStream(env.origin, 'Busy');
    const first = startPublisher({ url: env.origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    await waitFor(() => env.origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'the first publisher to be live', timeoutMs: 15_000 });
    const second = await RtmpTestClient.connect(env.origin.rtmpPort);
    await second.handshake();
    second.sendPublishSequence('live', stream.streamKey, env.origin.rtmpPort);
    expect(await second.nextStatus()).toMatchObject({ level: 'error', code: 'NetStream.Publish.BadName' });
    await sleep(2500);
    expect(first.child.exitCode).toBeNull();
    expect(env.origin.registry.getByStreamId(stream.id)?.state).toBe('live');
    await first.stop();
  });

  test('malformed RTMP input closes that connection only; the server keeps working', async () => {
    const garbage = await RtmpTestClient.connect(env.origin.rtmpPort);
    garbage.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200)));

    // A connect command without tcUrl made NMS throw "Invalid URL" and kill its process.
    const noTcUrl = await RtmpTestClient.connect(env.origin.rtmpPort);
    await noTcUrl.handshake();
    noTcUrl.send(commandMessage('connect', 1, { app: 'live' }));
    await waitFor(() => noTcUrl.closed, { what: 'the bad connect to be closed', timeoutMs: 3000 });

    // A publish without a stream name.
    const noName = await RtmpTestClient.connect(env.origin.rtmpPort);
    await noName.handshake();
    noName.send(commandMessage('connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live' }));
    noName.send(commandMessage('publish', 2, null));
    await waitFor(() => noName.closed, { what: 'the nameless publish to be closed', timeoutMs: 3000 });

    // Publish before connect.
    const early = await RtmpTestClient.connect(env.origin.rtmpPort);
    await early.handshake();
    early.send(commandMessage('publish', 1, null, 'whatever', 'live'));
    await waitFor(() => early.closed, { what: 'the early publish to be closed', timeoutMs: 3000 });
    garbage.close();

    const stream = await createStream(env.origin, 'After garbage');
    const client = await RtmpTestClient.connect(env.origin.rtmpPort);
    await client.handshake();
    client.sendPublishSequence('live', stream.streamKey, env.origin.rtmpPort);
    expect(await client.nextStatus()).toMatchObject({ level: 'status', code: 'NetStream.Publish.Start' });
    client.close();
    expect((await env.origin.api('GET', '/healthz', { token: null })).status).toBe(200);
  });
});
