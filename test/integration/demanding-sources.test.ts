import { parseMediaPlaylist } from '../../scripts/lib/media-playlist';
import { probeStreams, videoPackets } from '../support/ffprobe';
import { cmafInput, parseMaster } from '../support/hls';
import { goLive, type Live } from '../support/live';
import { metricValue, scrape } from '../support/metrics';
import { createStream, useTestOrigin, type TestOrigin } from '../support/origin';
import { processesWhose, startPublisher } from '../support/processes';
import { waitFor } from '../support/wait';

jest.setTimeout(180_000);

/** A rendition's complete segments, as its live playlist lists them. */
async function segments(live: Live, rendition: string, atLeast: number) {
  const url = live.urls.get(rendition)!;
  return waitFor(
    async () => {
      const playlist = parseMediaPlaylist(await (await fetch(url)).text());
      return playlist.segments.length >= atLeast && { url, segments: playlist.segments };
    },
    { what: `${atLeast} segments of ${rendition}`, timeoutMs: 40_000 },
  );
}

const liveSession = async (origin: TestOrigin, streamId: string) => (await origin.api('GET', `/api/v1/streams/${streamId}`)).body.liveSession;

describe('sources that ask more of the ladder', () => {
  const env = useTestOrigin();

  test('720p60: the copied source keeps its 60 fps; 480p and 360p are capped at 30 and cut at the same keyframes', async () => {
    const live = await goLive(env.origin, { profile: 'ladder' }, { width: 1280, height: 720, fps: 60, keyframeSeconds: 2 });
    expect([...live.urls.keys()].sort()).toEqual(['360p', '480p', 'audio', 'source']);
    const master = parseMaster(await (await fetch(live.masterUrl)).text());
    const rate = (name: string) => Number(master.variants.find((v) => v.uri.includes(`/${name}/`))!.attributes['FRAME-RATE']);
    expect([rate('source'), rate('480p'), rate('360p')]).toEqual([60, 30, 30]);
    const byRendition = new Map<string, Array<{ duration: number; frames: number; keyframeFirst: boolean }>>();
    for (const name of ['source', '480p', '360p']) {
      const { url, segments: listed } = await segments(live, name, 3);
      const measured = [];
      // The segments after the first (which may begin mid-GOP for a late joiner of the encoder), whole.
      for (const segment of listed.slice(1, 3)) {
        const packets = await videoPackets(cmafInput(env.origin.config.mediaDir, url, segment), true);
        measured.push({ duration: Math.round(segment.duration * 10) / 10, frames: packets.length, keyframeFirst: packets[0]!.keyframe });
      }
      byRendition.set(name, measured);
    }
    const source = byRendition.get('source')!;
    expect(source.every((s) => s.keyframeFirst && s.frames >= 110)).toBe(true);
    for (const name of ['480p', '360p']) {
      const capped = byRendition.get(name)!;
      // Cut where the source is cut, a keyframe first, and about half the frames.
      expect(capped.map((s) => s.duration)).toEqual(source.map((s) => s.duration));
      expect(capped.every((s) => s.keyframeFirst)).toBe(true);
      for (const [i, s] of capped.entries()) expect(Math.abs(s.frames - source[i]!.frames / 2)).toBeLessThanOrEqual(2);
    }
    await env.origin.registry.stopStream(live.stream.id, 'kicked');
  });

  test('High 4:2:2 H.264: the ladder encodes its top rendition to 8-bit 4:2:0 instead of copying it, and says why', async () => {
    const live = await goLive(env.origin, { profile: 'ladder' }, { width: 1280, height: 720, pixelFormat: 'yuv422p' });
    expect([...live.urls.keys()].sort()).toEqual(['360p', '480p', '720p', 'audio']);
    const { url, segments: listed } = await segments(live, '720p', 1);
    const [video] = await probeStreams(cmafInput(env.origin.config.mediaDir, url, listed[0]!));
    expect([video!.profile, video!.width, video!.height]).toEqual(['High', 1280, 720]);
    const session = await liveSession(env.origin, live.stream.id);
    expect(session.warnings).toContain('source_not_widely_playable');
    expect(session.renditions.find((r: { name: string }) => r.name === '720p').mode).toBe('encode');
    expect(env.origin.logs.some((l) => l.profile === 'High 4:2:2' && String(l.msg).includes('encoded to 8-bit 4:2:0'))).toBe(true);
    await env.origin.registry.stopStream(live.stream.id, 'kicked');
  });

  test('High 10 in passthrough: copied as it is, with a warning in the session, the metrics and the log', async () => {
    const live = await goLive(env.origin, { profile: 'passthrough' }, { width: 640, height: 360, pixelFormat: 'yuv420p10le' });
    const { url, segments: listed } = await segments(live, 'source', 1);
    const [video] = await probeStreams(cmafInput(env.origin.config.mediaDir, url, listed[0]!));
    expect(video!.profile).toBe('High 10');
    expect((await liveSession(env.origin, live.stream.id)).warnings).toContain('source_not_widely_playable');
    expect(metricValue(await scrape(env.origin.urls.publicUrl), 'origin_source_warnings_total{warning="source_not_widely_playable"}')).toBeGreaterThanOrEqual(1);
    expect(env.origin.logs.some((l) => l.profile === 'High 10' && String(l.msg).includes('passthrough copies it as it is'))).toBe(true);
    await env.origin.registry.stopStream(live.stream.id, 'kicked');
  });

  test('video without audio goes live about as soon as video with audio (nothing waits for audio that never comes)', async () => {
    const timeToLive = async (audio: boolean) => {
      const stream = await createStream(env.origin, `Go live, audio ${audio}`, { profile: 'ladder' });
      const started = Date.now();
      startPublisher({ url: env.origin.rtmpUrl(stream.streamKey), width: 640, height: 360, audio });
      await waitFor(async () => (await liveSession(env.origin, stream.id))?.state === 'live', { what: 'the session to go live', timeoutMs: 30_000 });
      const seconds = (Date.now() - started) / 1000;
      await env.origin.registry.stopStream(stream.id, 'kicked');
      return seconds;
    };
    const withAudio = await timeToLive(true);
    const videoOnly = await timeToLive(false);
    // ffmpeg used to probe its input for 5 s waiting for audio: about 4 s more.
    expect(videoOnly).toBeLessThan(withAudio + 2);
  });
});

describe('a transcoder slower than real time', () => {
  // x264's slowest preset on this ladder cannot keep up on a small machine: the origin must notice.
  const env = useTestOrigin({ overrides: { transcode: { preset: 'veryslow' } } });

  test('is shown, counted and logged, and its renditions are encoded more cheaply from a new run on', async () => {
    const live = await goLive(env.origin, { profile: 'ladder' }, { width: 1280, height: 720 });
    const session = await waitFor(
      async () => {
        const s = await liveSession(env.origin, live.stream.id);
        return s?.warnings.includes('transcoder_slow') && s;
      },
      { what: 'the slow transcoder to be noticed', timeoutMs: 90_000 },
    );
    expect(session.renditions.map((r: { name: string }) => r.name).sort()).toEqual(['360p', '480p', 'audio', 'source']);
    expect(metricValue(await scrape(env.origin.urls.publicUrl), 'origin_transcoder_slow_total{action="economy"}')).toBe(1);
    const logged = env.origin.logs.find((l) => String(l.msg).includes("encoding with x264's fastest preset"));
    expect(logged?.speed).toBeLessThan(0.9);
    // The new run's ffmpeg: the cheapest preset, for the same session.
    await waitFor(() => processesWhose((argv, cmdline) => argv[0]!.endsWith('ffmpeg') && cmdline.includes(live.stream.playbackId) && argv.includes('ultrafast')).length === 1, {
      what: 'an ffmpeg with the ultrafast preset',
      timeoutMs: 20_000,
    });
    await env.origin.registry.stopStream(live.stream.id, 'kicked');
  });
});
