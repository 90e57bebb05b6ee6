import type { TestPatternOptions } from '../../scripts/lib/test-pattern';
import type { MediaPlaylist } from '../../scripts/lib/media-playlist';
import { countDecodedFrames, probeStreams, videoPackets } from '../support/ffprobe';
import { cmafInput, fileOf, type Master } from '../support/hls';
import { useTestOrigin } from '../support/origin';
import { ffmpegProcessesMentioning, startPublisher } from '../support/processes';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

interface Pushed {
  master: Master;
  playlists: Map<string, MediaPlaylist>;
  /** What ffprobe reads: a segment (after its init segment), or a playlist file by its name. */
  files: (rendition: string, what: string | { uri: string; map?: string }) => string;
  /** The transcoder's command line; empty when the run was remuxed without ffmpeg. */
  argv: string[];
  streamId: string;
  playbackId: string;
}

describe('profiles and sources', () => {
  const env = useTestOrigin();

  /** Pushes `seconds` of a test pattern with a stream of this profile; returns the ended playlists. */
  async function push(profile: string, source: Omit<TestPatternOptions, 'url'>, seconds = 7, expectFfmpeg = true): Promise<Pushed> {
    const created = await env.origin.api('POST', '/api/v1/streams', { body: { name: profile, profile, reconnectWindowSeconds: 0 } });
    const { id, playbackId, streamKey } = created.body;
    const publisher = startPublisher({ url: env.origin.rtmpUrl(streamKey), seconds, ...source });
    const master = await waitFor(() => env.hls.master(playbackId), { what: 'the master playlist', timeoutMs: 20_000 });
    let argv: string[] = [];
    if (expectFfmpeg) {
      await waitFor(
        () => {
          const pid = ffmpegProcessesMentioning(env.origin.dir)[0];
          if (pid) argv = require('node:fs').readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          return argv.length > 0;
        },
        { what: 'the transcoder', timeoutMs: 5000 },
      );
    } else {
      expect(ffmpegProcessesMentioning(env.origin.dir)).toEqual([]);
    }
    expect((await publisher.exited).code).toBe(0);
    await waitFor(() => env.origin.registry.getByStreamId(id) === undefined, { what: 'the session to end', timeoutMs: 20_000 });
    const masterUrl = env.hls.masterUrl(playbackId);
    const playlists = new Map<string, MediaPlaylist>();
    const urls = new Map<string, string>();
    for (const uri of [...master.variants.map((v) => v.uri), ...master.audio.map((a) => a.uri)]) {
      const name = uri.split('/').slice(-2)[0]!;
      urls.set(name, env.hls.resolve(masterUrl, uri));
      playlists.set(name, await env.hls.media(urls.get(name)!));
    }
    for (const playlist of playlists.values()) expect(playlist.endList).toBe(true);
    const files = (name: string, what: string | { uri: string; map?: string }) =>
      typeof what === 'string' ? fileOf(env.origin.config.mediaDir, env.hls.resolve(urls.get(name)!, what)) : cmafInput(env.origin.config.mediaDir, urls.get(name)!, what);
    return { master, playlists, argv, streamId: id, playbackId, files };
  }

  /** Every video rendition starts each segment with a keyframe at the same time. */
  async function expectAligned(pushed: Pushed, renditions: string[]): Promise<void> {
    const reference = pushed.playlists.get(renditions[0]!)!;
    for (const segment of reference.segments) {
      const starts: number[] = [];
      for (const name of renditions) {
        const own = pushed.playlists.get(name)!.segments.find((s) => s.uri === segment.uri)!;
        const [first] = await videoPackets(pushed.files(name, own));
        expect(first?.keyframe).toBe(true);
        starts.push(first!.pts_time);
      }
      expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(0.001);
    }
  }

  async function sizeOf(pushed: Pushed, rendition: string): Promise<[number, number]> {
    const [video] = await probeStreams(pushed.files(rendition, pushed.playlists.get(rendition)!.segments[0]!));
    return [video!.width!, video!.height!];
  }

  /**
   * A remuxed rendition plays from end to end: every segment starts with a keyframe where the one
   * before it ended, and the whole playlist decodes without an error.
   */
  async function expectRemuxed(pushed: Pushed, frames: { video: number; audio: number }): Promise<void> {
    const source = pushed.playlists.get('source')!;
    let previousEnd: number | undefined;
    for (const segment of source.segments) {
      const packets = await videoPackets(pushed.files('source', segment));
      expect(packets[0]?.keyframe).toBe(true);
      if (previousEnd !== undefined) expect(Math.abs(packets[0]!.pts_time - previousEnd)).toBeLessThan(0.002);
      previousEnd = packets[0]!.pts_time + segment.duration;
    }
    const [audio] = await probeStreams(pushed.files('audio', pushed.playlists.get('audio')!.segments[0]!));
    expect(audio).toMatchObject({ codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2 });
    const decodedVideo = await countDecodedFrames(pushed.files('source', 'index.m3u8'));
    expect(decodedVideo).toBeGreaterThanOrEqual(frames.video - 5);
    expect(decodedVideo).toBeLessThanOrEqual(frames.video);
    expect(await countDecodedFrames(pushed.files('audio', 'index.m3u8'), 'a:0')).toBeGreaterThanOrEqual(frames.audio - 10);
  }

  test('passthrough: packaged in the origin, no ffmpeg; a long keyframe interval is warned about', async () => {
    const pushed = await push('passthrough', { width: 1280, height: 720, keyframeSeconds: 4 }, 10, false);
    await expectRemuxed(pushed, { video: 300, audio: Math.floor((10 * 48000) / 1024) });
    expect(pushed.master.variants.map((v) => [v.uri.split('/').slice(-2)[0], v.attributes.RESOLUTION])).toEqual([['source', '1280x720']]);
    expect(await sizeOf(pushed, 'source')).toEqual([1280, 720]);
    // segments follow the source's 4-second keyframes
    expect(
      pushed.playlists
        .get('source')!
        .segments.slice(0, -1)
        .every((s) => Math.abs(s.duration - 4) < 0.05),
    ).toBe(true);
    const session = await env.origin.sessions.listByStream(pushed.streamId, 1);
    expect(session[0]).toMatchObject({ profile: 'passthrough', endReason: 'publisher_left', videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720 });
    expect(env.origin.logs.some((l) => l.playbackId === pushed.playbackId && l.keyframeIntervalSeconds === 4)).toBe(true);
    expect(await env.origin.metrics.registry.getSingleMetricAsString('origin_source_warnings_total')).toContain('warning="keyframe_interval_too_long"');
  });

  test('passthrough of a source with B-frames, as OBS sends them: decoding order kept, every frame plays', async () => {
    const pushed = await push('passthrough', { width: 640, height: 360, bFrames: 2 }, 7, false);
    await expectRemuxed(pushed, { video: 210, audio: Math.floor((7 * 48000) / 1024) });
    const packets = await videoPackets(pushed.files('source', pushed.playlists.get('source')!.segments[0]!), true);
    expect(packets.every((p, i) => i === 0 || p.dts_time > packets[i - 1]!.dts_time)).toBe(true);
    expect(packets.some((p, i) => i > 0 && p.pts_time < packets[i - 1]!.pts_time)).toBe(true);
  });

  test('ladder on a 480p source: the source copied, 360p encoded, boundaries aligned', async () => {
    const pushed = await push('ladder', { width: 854, height: 480 });
    expect(pushed.master.variants.map((v) => v.attributes.RESOLUTION)).toEqual(['854x480', '640x360']);
    expect(await sizeOf(pushed, 'source')).toEqual([854, 480]);
    expect(await sizeOf(pushed, '360p')).toEqual([640, 360]);
    await expectAligned(pushed, ['source', '360p']);
  });

  test('a custom ladder from the configuration: its rungs, frame-rate cap and one audio rendition per bitrate', async () => {
    const pushed = await push('mobile', { width: 1280, height: 720, fps: 30 });
    expect(pushed.master.variants.map((v) => [v.attributes.RESOLUTION, v.attributes.AUDIO])).toEqual([
      ['960x540', 'audio_96k'],
      ['480x270', 'audio_64k'],
    ]);
    expect(pushed.master.audio.map((a) => a.groupId)).toEqual(['audio_96k', 'audio_64k']);
    expect(await sizeOf(pushed, '540p')).toEqual([960, 540]);
    expect(await sizeOf(pushed, '270p')).toEqual([480, 270]);
    await expectAligned(pushed, ['540p', '270p']);
    const [audio] = await probeStreams(pushed.files('audio_64k', pushed.playlists.get('audio_64k')!.segments[0]!));
    expect(audio).toMatchObject({ codec_name: 'aac' });
  });

  test('a source below every rung of a ladder without a source rung: one rendition at its size', async () => {
    const pushed = await push('mobile', { width: 426, height: 240 });
    expect(pushed.master.variants.map((v) => v.attributes.RESOLUTION)).toEqual(['426x240']);
    expect(await sizeOf(pushed, '240p')).toEqual([426, 240]);
  });

  test('audio only: one audio variant, no poster', async () => {
    const pushed = await push('ladder', { video: false }, 7, false);
    expect(pushed.master.variants.map((v) => [v.uri.split('/').slice(-2)[0], v.attributes.CODECS])).toEqual([['audio', 'mp4a.40.2']]);
    const [audio] = await probeStreams(pushed.files('audio', pushed.playlists.get('audio')!.segments[0]!));
    expect(audio).toMatchObject({ codec_type: 'audio', codec_name: 'aac' });
    expect((await fetch(`${env.origin.urls.publicUrl}/hls/${pushed.playbackId}/poster.jpg`)).status).toBe(404);
  });

  test('video only: renditions without an audio group; the last picture stays as the poster', async () => {
    const pushed = await push('ladder', { width: 640, height: 360, audio: false }, 7, false);
    expect(pushed.master.audio).toEqual([]);
    expect(pushed.master.variants.map((v) => [v.attributes.RESOLUTION, v.attributes.AUDIO])).toEqual([['640x360', undefined]]);
    const poster = await fetch(`${env.origin.urls.publicUrl}/hls/${pushed.playbackId}/poster.jpg`);
    expect(poster.status).toBe(200);
    expect(poster.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await poster.arrayBuffer());
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });
});
