import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RtmpTestClient } from '../../scripts/lib/rtmp-client';
import { generateId } from '../../src/streams/keys';
import { createStream, startTestOrigin, useTestOrigin } from '../support/origin';
import { startPublisher } from '../support/processes';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

function ffprobeJson(args: string[]): Promise<any> {
  return new Promise((resolve, reject) =>
    execFile('ffprobe', ['-v', 'error', '-of', 'json', ...args], (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(JSON.parse(stdout)))),
  );
}

describe('retention and disk', () => {
  const env = useTestOrigin({ overrides: { hls: { listSize: 3, keepEndedSeconds: 3, sweepIntervalSeconds: 1 } } });

  test('the live window stays bounded, and an unrecorded session leaves nothing behind once it is old enough', async () => {
    const stream = await createStream(env.origin, 'Rolling');
    const publisher = startPublisher({ url: env.origin.rtmpUrl(stream.streamKey), width: 640, height: 360, seconds: 16 });
    const master = await waitFor(() => env.hls.master(stream.playbackId), { what: 'the master', timeoutMs: 20_000 });
    const mediaUrl = env.hls.resolve(env.hls.masterUrl(stream.playbackId), master.variants[0]!.uri);
    const sessionId = env.origin.registry.getByStreamId(stream.id)!.id;
    const renditionDir = path.join(env.origin.config.mediaDir, 'live', stream.playbackId, 'sessions', sessionId, 'source');
    let maxFiles = 0;
    let maxListed = 0;
    while (publisher.child.exitCode === null) {
      const playlist = await env.hls.media(mediaUrl);
      maxListed = Math.max(maxListed, playlist.segments.length);
      maxFiles = Math.max(maxFiles, fs.readdirSync(renditionDir).filter((f) => /^seg_\d+\.m4s$/.test(f)).length);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(maxListed).toBe(3);
    // the window, as many again for players still reading them, and the segment being written
    expect(maxFiles).toBeGreaterThanOrEqual(6);
    expect(maxFiles).toBeLessThanOrEqual(7);

    await waitFor(() => env.origin.registry.getByStreamId(stream.id) === undefined, { what: 'the end', timeoutMs: 15_000 });
    expect((await env.hls.media(mediaUrl)).endList).toBe(true);
    await waitFor(() => !fs.existsSync(path.join(env.origin.config.mediaDir, 'live', stream.playbackId)), { what: 'the files to go', timeoutMs: 15_000 });
    expect((await fetch(env.hls.masterUrl(stream.playbackId))).status).toBe(404);
  });

  test('a recorded session keeps every segment and is served as VOD once it ends', async () => {
    const created = await env.origin.api('POST', '/api/v1/streams', { body: { name: 'Recorded', record: true, reconnectWindowSeconds: 0 } });
    const { id, playbackId, streamKey } = created.body;
    startPublisher({ url: env.origin.rtmpUrl(streamKey), width: 640, height: 360, seconds: 11 });
    await waitFor(() => env.origin.registry.getByStreamId(id)?.state === 'live', { what: 'live', timeoutMs: 20_000 });
    const sessionId = env.origin.registry.getByStreamId(id)!.id;
    await waitFor(() => env.origin.registry.getByStreamId(id) === undefined, { what: 'the end', timeoutMs: 30_000 });

    const vodUrl = `${env.origin.urls.publicUrl}/hls/${playbackId}/sessions/${sessionId}/master.m3u8`;
    const vod = await env.hls.text(vodUrl);
    expect(vod.status).toBe(200);
    const recordingUrl = env.hls.resolve(
      vodUrl,
      vod.text.split('\n').find((line) => line.endsWith('recording.m3u8') && !line.startsWith('#'))!,
    );
    const recording = await env.hls.media(recordingUrl);
    expect(recording.playlistType).toBe('VOD');
    expect(recording.endList).toBe(true);
    expect(recording.mediaSequence).toBe(1);
    expect(recording.segments.length).toBeGreaterThanOrEqual(5);
    const listed = recording.segments.reduce((sum, s) => sum + s.duration, 0);
    expect(listed).toBeGreaterThan(10);
    // the live window only kept 3; the recording kept them all, and a player can read it whole
    const probed = await ffprobeJson(['-show_entries', 'format=duration:stream=codec_type,width,height', vodUrl]);
    expect(probed.streams.map((s: { codec_type: string }) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(Number(probed.format.duration)).toBeGreaterThan(10);

    // listed with the session
    const sessions = await env.origin.api('GET', `/api/v1/streams/${id}/sessions`);
    expect(sessions.body.data[0]).toMatchObject({ id: sessionId, recorded: true, vodUrl });

    // retention removes the live entry, never the recording
    await waitFor(async () => (await fetch(env.hls.masterUrl(playbackId))).status === 404, { what: 'the live master to go', timeoutMs: 15_000 });
    expect((await env.hls.text(vodUrl)).status).toBe(200);
  });

  test('below the free-space threshold new publishes are refused with a reason', async () => {
    const tight = await startTestOrigin({ overrides: { disk: { minFreeMegabytes: 1e12 } } });
    try {
      const stream = await createStream(tight, 'No room');
      const client = await RtmpTestClient.connect(tight.rtmpPort);
      await client.handshake();
      client.sendPublishSequence('live', stream.streamKey, tight.rtmpPort);
      expect(await client.nextStatus()).toMatchObject({ level: 'error', code: 'NetStream.Publish.Denied', description: expect.stringContaining('low on disk space') });
      expect(tight.logs.find((l) => l.reason === 'disk_full')).toMatchObject({ level: 'warn' });
      expect(await tight.metrics.registry.getSingleMetricAsString('origin_publishes_total')).toContain('reason="disk_full"');
    } finally {
      await tight.close();
    }
  });
});

describe('boot after a crash', () => {
  test('sessions left open are closed as crashed; stray files go, recordings stay and are ended', async () => {
    const first = await startTestOrigin({ dir: undefined });
    const dir = first.dir;
    const stream = await createStream(first, 'Crashed');
    const live = path.join(first.config.mediaDir, 'live', stream.playbackId);
    const plain = generateId();
    const recorded = generateId();
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
    };
    const playlist = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.000,\nseg_0.ts\n';
    write(path.join(live, 'sessions', plain, 'source', 'index.m3u8'), playlist);
    write(path.join(live, 'sessions', plain, 'source', 'seg_0.ts'), 'x');
    write(path.join(live, 'sessions', recorded, 'source', 'recording.m3u8'), playlist.replace('#EXT-X-MEDIA', '#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-MEDIA'));
    write(path.join(live, 'sessions', recorded, 'master.m3u8'), '#EXTM3U\n');
    write(path.join(live, 'master.m3u8'), `#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nsessions/${plain}/source/index.m3u8\n`);
    const row = { stream_id: stream.id, node: first.config.nodeId, state: 'live', started_at: Date.now(), profile: 'ladder', bytes_in: 0, reconnects: 0, transcoder_restarts: 0 };
    await first.db('sessions').insert([
      { ...row, id: plain, recorded: false },
      { ...row, id: recorded, recorded: true },
    ]);
    const elsewhere = generateId();
    await first.db('sessions').insert({ ...row, id: elsewhere, node: 'another-node', recorded: false });
    await first.stop();

    const second = await startTestOrigin({ dir });
    try {
      expect(await second.sessions.findById(plain)).toMatchObject({ state: 'ended', endReason: 'crashed' });
      expect(await second.sessions.findById(recorded)).toMatchObject({ state: 'ended', endReason: 'crashed' });
      // another node's sessions are its own business
      expect(await second.sessions.findById(elsewhere)).toMatchObject({ state: 'live', endReason: null });
      expect(fs.existsSync(path.join(live, 'sessions', plain))).toBe(false);
      expect(fs.existsSync(path.join(live, 'master.m3u8'))).toBe(false);
      expect(fs.readFileSync(path.join(live, 'sessions', recorded, 'source', 'recording.m3u8'), 'utf8')).toMatch(/#EXT-X-ENDLIST\n$/);
      expect(second.logs.filter((l) => l.msg === 'closed a session left open by a crash')).toHaveLength(2);
    } finally {
      await second.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
