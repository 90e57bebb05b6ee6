import fs from 'node:fs';
import path from 'node:path';
import { parseMediaPlaylist, type MediaPlaylist } from '../../scripts/lib/media-playlist';
import type { MediaTag } from '../../src/ingest/media';
import type { Publisher, PublisherListener } from '../../src/ingest/publisher';
import { goLive } from '../support/live';
import { createStream, useTestOrigin } from '../support/origin';
import { ffmpegProcessesMentioning, startPublisher } from '../support/processes';
import { waitFor } from '../support/wait';

jest.setTimeout(120_000);

/** A publisher as ingest hands it over, driven by the test instead of a socket. */
class ScriptedPublisher implements Publisher {
  readonly id = 'scripted';
  readonly clientAddress = '127.0.0.9';
  readonly connectedAt = Date.now();
  bytesIn = 0;
  lastDataAt = Date.now();
  disconnected = false;
  listener: PublisherListener | undefined;
  listen(listener: PublisherListener): void {
    this.listener = listener;
  }
  disconnect(): void {
    this.disconnected = true;
  }
}

describe('faults inside one session', () => {
  const env = useTestOrigin({ overrides: { transcode: { maxRestarts: 1, stallSegments: 2, startupGraceSeconds: 4 } } });

  test('an error thrown while handling media ends that session (internal_error) and nothing else', async () => {
    const { origin } = env;
    const bystander = await createStream(origin, 'Bystander');
    startPublisher({ url: origin.rtmpUrl(bystander.streamKey), width: 640, height: 360 });
    await waitFor(() => origin.registry.getByStreamId(bystander.id)?.state === 'live', { what: 'the bystander live', timeoutMs: 20_000 });

    const victim = await createStream(origin, 'Victim');
    const decision = await origin.registry.check({ connectionId: 'x', clientAddress: '127.0.0.9', streamKey: victim.streamKey });
    if (!decision.ok) throw new Error('the key was refused');
    const publisher = new ScriptedPublisher();
    expect(decision.admit(publisher)).toMatchObject({ ok: true });
    // A tag no parser of ours produces: bytes missing. Handling it throws inside the session.
    publisher.listener!.media({ kind: 'video', codec: 'h264', keyframe: true, timestamp: 0 } as unknown as MediaTag);

    await waitFor(() => origin.registry.getByStreamId(victim.id) === undefined, { what: 'the victim session to end', timeoutMs: 10_000 });
    expect(publisher.disconnected).toBe(true);
    expect((await origin.sessions.listByStream(victim.id, 1))[0]?.endReason).toBe('internal_error');
    expect(origin.logs.find((l) => l.msg === 'unexpected error in the session; ending it')).toMatchObject({ level: 'error', playbackId: victim.playbackId });
    expect(await origin.metrics.registry.getSingleMetricAsString('origin_uncaught_errors_total')).toMatch(/ 1$/);
    expect(origin.registry.getByStreamId(bystander.id)?.state).toBe('live');
    await origin.registry.stopStream(bystander.id, 'kicked');
  });

  test('a transcoder stopped after a stall: its renditions list the time they lost as gaps, and every rendition keeps the same numbers at the same times', async () => {
    const { origin } = env;
    const live = await goLive(origin, {}, { width: 1280, height: 720 });
    const session = origin.registry.getByStreamId(live.stream.id)!;
    const playlist = async (name: string): Promise<MediaPlaylist> => parseMediaPlaylist(await (await fetch(live.urls.get(name)!)).text());
    await waitFor(async () => (await playlist('480p')).segments.length >= 2, { what: 'two encoded segments', timeoutMs: 20_000 });

    // The ladder's ffmpeg freezes; the copied source and audio go on, and the watchdog replaces it.
    const [transcoder] = ffmpegProcessesMentioning(origin.dir);
    process.kill(transcoder!, 'SIGSTOP');
    try {
      await waitFor(() => session.info().transcoderRestarts >= 1, { what: 'the stalled transcoder to be replaced', timeoutMs: 30_000 });
    } finally {
      process.kill(transcoder!, 'SIGCONT');
    }

    // Every playlist parses strictly; each number starts at the same time in every rendition, and
    // the encoded ones list their lost time as gaps before the new run's segments.
    const after = await waitFor(
      async () => {
        const all = await Promise.all([...live.urls.keys()].map(async (name) => [name, await playlist(name)] as const));
        return all.every(([, p]) => p.segments.filter((s) => s.discontinuity).length === 1 && p.segments.at(-1)!.discontinuity === false) && new Map(all);
      },
      { what: 'a segment after the restart in every rendition', timeoutMs: 30_000 },
    );
    const source = after.get('source')!;
    for (const [name, rendition] of after) {
      for (const segment of rendition.segments) {
        const same = source.segments.find((s) => s.sequence === segment.sequence);
        if (!same) continue;
        // Audio is cut at the first AAC frame at or after the video's cut: within a frame of it.
        const apart = Math.abs(Date.parse(segment.programDateTime!) - Date.parse(same.programDateTime!));
        expect(`${name} ${segment.sequence} ${apart <= (name === 'audio' ? 25 : 0)}`).toBe(`${name} ${same.sequence} true`);
      }
      const restartedAt = rendition.segments.findIndex((s) => s.discontinuity);
      expect(rendition.segments[restartedAt]!.sequence).toBe(source.segments.find((s) => s.discontinuity)!.sequence);
    }
    for (const name of ['480p', '360p']) expect(after.get(name)!.segments.some((s) => s.gap)).toBe(true);
    expect(source.segments.some((s) => s.gap)).toBe(false);
    // A gap has no media to serve.
    const gap = after.get('480p')!.segments.find((s) => s.gap)!;
    expect((await fetch(new URL(gap.uri, live.urls.get('480p')!))).status).toBe(404);
    expect(session.state).toBe('live');
    await origin.registry.stopStream(live.stream.id, 'kicked');
  });

  test("a live session's folder removed under it: its transcoder fails, is restarted, and the stream heals; other streams never notice", async () => {
    const { origin } = env;
    const [doomed, other] = [await createStream(origin, 'Doomed folder'), await createStream(origin, 'Other')];
    for (const stream of [doomed, other]) startPublisher({ url: origin.rtmpUrl(stream.streamKey), width: 640, height: 360 });
    await waitFor(() => [doomed, other].every((s) => origin.registry.getByStreamId(s.id)?.state === 'live'), { what: 'both live', timeoutMs: 25_000 });
    const session = origin.registry.getByStreamId(doomed.id)!;
    const otherSession = origin.registry.getByStreamId(other.id)!;
    const newest = (stream: { playbackId: string }) => origin.catalog.get(stream.playbackId)?.timelines.get('source')?.window.at(-1)?.msn ?? -1;
    const before = newest(doomed);
    const otherBefore = newest(other);

    fs.rmSync(path.join(origin.config.mediaDir, 'live', doomed.playbackId, 'sessions', session.id), { recursive: true, force: true });

    // The run cannot write its next part and fails; the new run recreates its folders and carries on.
    await waitFor(() => session.info().transcoderRestarts >= 1, { what: 'a restart', timeoutMs: 20_000 });
    await waitFor(() => newest(doomed) > before + 1, { what: 'the doomed stream to heal', timeoutMs: 20_000 });
    expect(session.state).toBe('live');
    expect(origin.logs.some((l) => l.msg === "cannot write the stream's files; restarting the run" && l.session === session.id)).toBe(true);
    await waitFor(() => newest(other) > otherBefore + 2, { what: 'the other stream to go on', timeoutMs: 10_000 });
    expect(otherSession.info().transcoderRestarts).toBe(0);
    expect((await origin.api('GET', '/healthz', { token: null })).status).toBe(200);
    for (const stream of [doomed, other]) await origin.registry.stopStream(stream.id, 'kicked');
    expect(ffmpegProcessesMentioning(origin.dir)).toEqual([]);
  });
});
