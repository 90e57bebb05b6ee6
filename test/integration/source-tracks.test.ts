import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isKeyframe, isSequenceHeader, metadataTag, readFlvTags, relayFlv, type FlvTag } from '../support/flv-relay';
import { parseMediaPlaylist } from '../../scripts/lib/media-playlist';
import { startGstPublisher } from '../support/gstreamer';
import { cmafInput } from '../support/hls';
import { metricValue, scrape } from '../support/metrics';
import { createStream, useTestOrigin, type TestOrigin } from '../support/origin';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

interface LiveSession {
  state: string;
  warnings: string[];
  renditions: Array<{ name: string; kind: string }>;
}

const liveSession = async (origin: TestOrigin, streamId: string): Promise<LiveSession | undefined> => (await origin.api('GET', `/api/v1/streams/${streamId}`)).body.liveSession;

const kinds = (session: LiveSession | undefined) => [...new Set(session?.renditions.map((r) => r.kind))].sort();

/** The newest segment with media that a rendition's live playlist lists, or undefined while it has none. */
async function newestSegment(origin: TestOrigin, playbackId: string, rendition: string): Promise<number | undefined> {
  const master = await fetch(`${origin.urls.publicUrl}/hls/${playbackId}/master.m3u8`);
  if (master.status !== 200) return undefined;
  // A variant's URI line, or an audio rendition's URI attribute.
  const uri = new RegExp(`[^"\\n]*/${rendition}/index\\.m3u8`).exec(await master.text())?.[0];
  if (!uri) return undefined;
  const playlist = await fetch(new URL(uri, `${origin.urls.publicUrl}/hls/${playbackId}/`));
  if (playlist.status !== 200) return undefined;
  // Time a rendition lacks (the audio that stopped) is listed as gaps: they have no media.
  return parseMediaPlaylist(await playlist.text())
    .segments.filter((segment) => !segment.gap)
    .at(-1)?.sequence;
}

describe('the tracks a publisher sends, decided by its media', () => {
  const env = useTestOrigin();
  let dir: string;
  let tags: FlvTag[];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'origin-tracks-'));
    const file = path.join(dir, 'source.flv');
    // 14 s of 640x360 video (a keyframe a second) and AAC, as an encoder would push them.
    // prettier-ignore
    await promisify(execFile)('ffmpeg', [
      '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '14', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k', '-f', 'flv', file,
    ]);
    tags = readFlvTags(file).filter((tag) => tag.type !== 18);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a first onMetaData without videocodecid (as GStreamer's flvmux sends it now and then) does not lose the video", async () => {
    const stream = await createStream(env.origin, 'Metadata without video', { profile: 'passthrough' });
    const relay = await relayFlv(env.origin.rtmpPort, stream.streamKey, [metadataTag({ audiocodecid: 10, audiosamplerate: 48000 }), ...tags.filter((t) => t.timestamp < 8000)]);
    const session = await waitFor(
      async () => {
        const s = await liveSession(env.origin, stream.id);
        return s?.state === 'live' && s;
      },
      { what: 'the session to go live', timeoutMs: 20_000 },
    );
    expect(kinds(session)).toEqual(['audio', 'video']);
    expect(session.warnings).toEqual([]);
    await relay.done;
  });

  test('video that starts late: the session says so, and its renditions join the stream beside the audio that went on', async () => {
    const stream = await createStream(env.origin, 'Video comes late', { profile: 'passthrough' });
    // Audio from the start; video from its first keyframe after 3 s.
    const videoFrom = tags.find((t) => isKeyframe(t) && t.timestamp >= 3000)!.timestamp;
    const late = tags
      .filter((t) => t.type === 8 || isSequenceHeader(t) || t.timestamp >= videoFrom)
      .map((t) => (isSequenceHeader(t) && t.type === 9 ? { ...t, timestamp: videoFrom } : t));
    late.sort((a, b) => a.timestamp - b.timestamp);
    const relay = await relayFlv(env.origin.rtmpPort, stream.streamKey, [metadataTag({ audiocodecid: 10 }), ...late.filter((t) => t.timestamp < 12_000)]);
    await waitFor(async () => (await liveSession(env.origin, stream.id))?.state === 'live', { what: 'the audio-only session to go live', timeoutMs: 20_000 });
    expect(kinds(await liveSession(env.origin, stream.id))).toEqual(['audio']);
    const audioBefore = await newestSegment(env.origin, stream.playbackId, 'audio');
    const session = await waitFor(
      async () => {
        const s = await liveSession(env.origin, stream.id);
        return s?.warnings.includes('video_track_appeared') && s;
      },
      { what: 'the video to be noticed', timeoutMs: 15_000 },
    );
    expect(kinds(session)).toEqual(['audio', 'video']);
    // The master now offers the video, with the audio as its group; the audio rendition went on.
    const master = await waitFor(
      async () => {
        const response = await fetch(`${env.origin.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`);
        const text = await response.text();
        return text.includes('/source/index.m3u8') && text;
      },
      { what: 'a master with the video', timeoutMs: 15_000 },
    );
    expect(master).toMatch(/#EXT-X-STREAM-INF:.*AUDIO="audio"/);
    expect(await newestSegment(env.origin, stream.playbackId, 'source')).toBeGreaterThanOrEqual(1);
    expect(await newestSegment(env.origin, stream.playbackId, 'audio')).toBeGreaterThan(audioBefore ?? 0);
    const metrics = await scrape(env.origin.urls.publicUrl);
    expect(metricValue(metrics, 'origin_source_warnings_total{warning="video_track_appeared"}')).toBe(1);
    expect(env.origin.logs.some((line) => line.warning === 'video_track_appeared' && line.level === 'warn')).toBe(true);
    await relay.done;
  });

  test('audio that stops while the video goes on: said, and the audio rendition goes on with silence', async () => {
    const stream = await createStream(env.origin, 'Audio stops', { profile: 'passthrough' });
    const relay = await relayFlv(env.origin.rtmpPort, stream.streamKey, [
      metadataTag({ videocodecid: 7, audiocodecid: 10 }),
      ...tags.filter((t) => t.type === 9 || t.timestamp < 4000),
    ]);
    await waitFor(async () => (await liveSession(env.origin, stream.id))?.state === 'live', { what: 'the session to go live', timeoutMs: 20_000 });
    const session = await waitFor(
      async () => {
        const s = await liveSession(env.origin, stream.id);
        return s?.warnings.includes('audio_track_missing') && s;
      },
      { what: 'the missing audio to be noticed', timeoutMs: 20_000 },
    );
    expect(kinds(session)).toEqual(['audio', 'video']);
    const audioThen = (await newestSegment(env.origin, stream.playbackId, 'audio'))!;
    await waitFor(async () => ((await newestSegment(env.origin, stream.playbackId, 'audio')) ?? 0) >= audioThen + 2, { what: 'audio segments of silence', timeoutMs: 15_000 });
    expect((await liveSession(env.origin, stream.id))?.state).toBe('live');
    // The newest audio segment decodes, to silence.
    const master = await (await fetch(`${env.origin.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`)).text();
    const audioUrl = new URL(/URI="([^"]+\/audio\/index\.m3u8)"/.exec(master)![1]!, `${env.origin.urls.publicUrl}/hls/${stream.playbackId}/`).toString();
    const newest = parseMediaPlaylist(await (await fetch(audioUrl)).text())
      .segments.filter((segment) => !segment.gap)
      .at(-1)!;
    const { stderr } = await promisify(execFile)('ffmpeg', [
      '-hide_banner',
      '-i',
      cmafInput(env.origin.config.mediaDir, audioUrl, newest),
      '-af',
      'volumedetect',
      '-f',
      'null',
      '-',
    ]);
    expect(stderr).toMatch(/max_volume: (-inf|-9\d(\.\d)?) dB/);
    await relay.done;
  });
});

describe('GStreamer as a publisher, again and again', () => {
  const env = useTestOrigin();

  test('each of several publishes from rtmp2sink gets its video and its audio', async () => {
    const stream = await createStream(env.origin, 'GStreamer, repeatedly', { profile: 'passthrough' });
    for (let publish = 1; publish <= 4; publish++) {
      const publisher = startGstPublisher({ url: env.origin.rtmpUrl(stream.streamKey), seconds: 5 });
      const session = await waitFor(
        async () => {
          const s = await liveSession(env.origin, stream.id);
          return s?.state === 'live' && s;
        },
        { what: `publish ${publish} to go live`, timeoutMs: 20_000 },
      );
      expect(kinds(session)).toEqual(['audio', 'video']);
      expect((await publisher.exited).code).toBe(0);
      await waitFor(async () => !(await liveSession(env.origin, stream.id)), { what: `publish ${publish} to end`, timeoutMs: 20_000 });
    }
    // The publish history keeps each session's tracks, and its publisher's address though none reconnected.
    const sessions = (await env.origin.api('GET', `/api/v1/streams/${stream.id}/sessions`)).body.data as Array<{
      video: { codec: string } | null;
      audio: { codec: string } | null;
      endReason: string;
      reconnects: number;
      clientAddress: string | null;
    }>;
    expect(sessions.map((s) => [s.video?.codec, s.audio?.codec, s.endReason, s.reconnects, s.clientAddress])).toEqual(
      Array(4).fill(['h264', 'aac', 'publisher_left', 0, '127.0.0.1']),
    );
  });
});
