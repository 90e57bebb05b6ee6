import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { probeStreams } from '../support/ffprobe';
import { parseMaster } from '../support/hls';
import { startObs } from '../support/obs';
import { createStream, useTestOrigin } from '../support/origin';
import { waitFor } from '../support/wait';

jest.setTimeout(150_000);

/** The streamer's own client: OBS Studio from Debian, headless on a virtual display. */
describe('OBS Studio publishing', () => {
  const env = useTestOrigin();
  let dir: string;
  let clip: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-'));
    clip = path.join(dir, 'clip.mp4');
    // What OBS plays in a loop: moving pictures and a tone, so that its encoder has work and audio.
    // prettier-ignore
    execFileSync('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '10', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', clip,
    ]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('with the settings the console gives (custom server, key, keyframe interval 2 s), the stream goes live with its ladder and no warning; every rendition is read by ffprobe', async () => {
    const { origin } = env;
    const stream = await createStream(origin, 'From OBS');
    const obs = await startObs({ server: `rtmp://127.0.0.1:${origin.rtmpPort}/live`, key: stream.streamKey, clip, keyframeSeconds: 2, dir: path.join(dir, 'home') });
    try {
      await waitFor(() => origin.registry.getByStreamId(stream.id)?.state === 'live', { what: 'the stream from OBS to be live', timeoutMs: 90_000 });
      const view = await waitFor(
        async () => {
          const live = (await origin.api('GET', `/api/v1/streams/${stream.id}`)).body.liveSession;
          return live?.ingest.keyframeIntervalSeconds !== undefined && live;
        },
        { what: 'the keyframe interval to be measured', timeoutMs: 30_000 },
      );
      expect(view.ingest.video).toMatchObject({ codec: 'h264', width: 1280, height: 720 });
      expect(view.ingest.audio).toMatchObject({ codec: 'aac', sampleRate: 48000, channels: 2 });
      expect(view.ingest.keyframeIntervalSeconds).toBeCloseTo(2, 0);
      expect(view.warnings).toEqual([]);
      expect(view.renditions.map((r: { name: string }) => r.name)).toEqual(['source', '480p', '360p', 'audio']);

      const masterUrl = `${origin.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`;
      const master = parseMaster(await (await fetch(masterUrl)).text());
      const heights = [];
      for (const variant of master.variants) {
        const streams = await probeStreams(new URL(variant.uri, masterUrl).toString());
        heights.push(streams.find((s) => s.codec_type === 'video')?.height);
      }
      expect(heights.sort((a, b) => b! - a!)).toEqual([720, 480, 360]);
    } finally {
      await obs.stop();
    }
  });
});
