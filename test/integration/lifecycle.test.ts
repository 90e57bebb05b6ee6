import { lastSequence, type MediaPlaylist } from '../../scripts/lib/media-playlist';
import { HlsClient } from '../support/hls';
import { createStream, useTestOrigin, type TestOrigin } from '../support/origin';
import { ffmpegProcessesMentioning, startPublisher } from '../support/processes';
import { sleep, waitFor } from '../support/wait';

jest.setTimeout(120_000);

/** Small pictures: these tests are about the session, not the ladder, and run on two cores. */
const SMALL = { width: 640, height: 360 } as const;

async function goLive(origin: TestOrigin, hls: HlsClient, options: { reconnectWindowSeconds?: number } = {}) {
  const stream = await createStream(origin, 'Lifecycle');
  if (options.reconnectWindowSeconds !== undefined) {
    await origin.db('streams').where({ id: stream.id }).update({ reconnect_window_seconds: options.reconnectWindowSeconds });
  }
  const publisher = startPublisher({ url: origin.rtmpUrl(stream.streamKey), ...SMALL });
  const master = await waitFor(() => hls.master(stream.playbackId), { what: 'the master playlist', timeoutMs: 20_000 });
  const masterUrl = hls.masterUrl(stream.playbackId);
  const mediaUrl = hls.resolve(masterUrl, master.variants[0]!.uri);
  return { stream, publisher, master, masterUrl, mediaUrl };
}

/** Polls a media playlist and keeps every segment it ever listed, in order. */
async function segmentsUntil(hls: HlsClient, url: string, done: (seen: MediaPlaylist['segments'], last: MediaPlaylist) => boolean, timeoutMs: number) {
  const seen = new Map<number, MediaPlaylist['segments'][number]>();
  return waitFor(
    async () => {
      const playlist = await hls.media(url);
      for (const segment of playlist.segments) if (!seen.has(segment.sequence)) seen.set(segment.sequence, segment);
      const all = [...seen.values()].sort((a, b) => a.sequence - b.sequence);
      return done(all, playlist) && { all, last: playlist };
    },
    { what: 'the playlist to get there', timeoutMs, intervalMs: 500 },
  );
}

describe('live session lifecycle', () => {
  const env = useTestOrigin({
    overrides: {
      ingest: { takeoverAfterIdleSeconds: 1.5 },
      // No source rung: the small source is encoded, so an ffmpeg runs for the tests to fault.
      transcode: { sourceRung: false, stallSegments: 2, startupGraceSeconds: 6, maxRestarts: 2, stopGraceSeconds: 3 },
    },
  });

  test('a publisher that drops and comes back within the window continues the same playlists', async () => {
    const { stream, publisher, master, masterUrl, mediaUrl } = await goLive(env.origin, env.hls, { reconnectWindowSeconds: 8 });
    await segmentsUntil(env.hls, mediaUrl, (all) => all.length >= 3, 15_000);
    publisher.child.kill('SIGKILL');
    await waitFor(() => env.origin.registry.getByStreamId(stream.id)?.state === 'reconnecting', { what: 'reconnecting', timeoutMs: 15_000 });
    const during = await env.hls.media(mediaUrl);
    expect(during.endList).toBe(false);
    expect((await env.origin.api('GET', `/api/v1/streams/${stream.id}`)).body.status).toBe('live');

    const second = startPublisher({ url: env.origin.rtmpUrl(stream.streamKey), ...SMALL });
    const before = lastSequence(during)!;
    const { all } = await segmentsUntil(env.hls, mediaUrl, (seen) => seen.some((s) => s.sequence > before + 2), 20_000);
    // one master URL, media sequence increasing without gaps, a discontinuity at the join
    expect(await env.hls.master(stream.playbackId)).toEqual(master);
    expect((await env.hls.text(masterUrl)).text).toBe(master.text);
    all.forEach((segment, i) => i > 0 && expect(segment.sequence).toBe(all[i - 1]!.sequence + 1));
    const joins = all.filter((s) => s.discontinuity);
    expect(joins).toHaveLength(1);
    expect(joins[0]!.sequence).toBeGreaterThan(before);
    expect(env.origin.registry.getByStreamId(stream.id)?.info()).toMatchObject({ state: 'live', reconnects: 1 });

    // Dropped again, and not back: the playlists end only after the window.
    second.child.kill('SIGKILL');
    await waitFor(() => env.origin.registry.getByStreamId(stream.id)?.state === 'reconnecting', { what: 'reconnecting again', timeoutMs: 15_000 });
    const droppedAt = Date.now();
    await sleep(4000);
    expect((await env.hls.media(mediaUrl)).endList).toBe(false);
    await waitFor(async () => (await env.hls.media(mediaUrl)).endList, { what: 'ENDLIST after the window', timeoutMs: 15_000 });
    expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(7500);
    // The playlists end first; then the last picture is made for the poster and the session is over.
    await waitFor(() => env.origin.registry.getByStreamId(stream.id) === undefined, { what: 'the session to end', timeoutMs: 10_000 });
    const session = (await env.origin.sessions.listByStream(stream.id, 1))[0];
    expect(session).toMatchObject({ state: 'ended', endReason: 'reconnect_window_expired', reconnects: 1 });
    expect(ffmpegProcessesMentioning(env.origin.dir)).toEqual([]);
  });

  test('a publisher back after a gap longer than the stall limit is not taken for a stalled transcoder', async () => {
    const { stream, publisher, mediaUrl } = await goLive(env.origin, env.hls, { reconnectWindowSeconds: 30 });
    await segmentsUntil(env.hls, mediaUrl, (all) => all.length >= 2, 15_000);
    publisher.child.kill('SIGKILL');
    await waitFor(() => env.origin.registry.getByStreamId(stream.id)?.state === 'reconnecting', { what: 'reconnecting', timeoutMs: 15_000 });
    const before = lastSequence(await env.hls.media(mediaUrl))!;
    // Twice the stall limit (2 segment durations here) without output: the old run has long drained.
    await sleep(8000);
    // Without audio, its probe waits a second for audio: a watchdog tick meanwhile must not blame the old run.
    startPublisher({ url: env.origin.rtmpUrl(stream.streamKey), ...SMALL, audio: false });
    await segmentsUntil(env.hls, mediaUrl, (seen) => seen.some((s) => s.sequence > before + 2), 30_000);
    const session = env.origin.registry.getByStreamId(stream.id)!;
    expect(session.info()).toMatchObject({ state: 'live', reconnects: 1, transcoderRestarts: 0 });
    expect(env.origin.logs.filter((l) => l.session === session.id && l.msg === 'restarting the transcoder')).toEqual([]);
    await env.origin.registry.stopStream(stream.id, 'kicked');
  });

  test('a new publish takes over from a connection that went silent (half-open)', async () => {
    const { stream, publisher, mediaUrl } = await goLive(env.origin, env.hls);
    await segmentsUntil(env.hls, mediaUrl, (all) => all.length >= 2, 15_000);
    publisher.child.kill('SIGSTOP'); // the socket stays open, nothing more arrives
    await sleep(2000);
    const before = lastSequence(await env.hls.media(mediaUrl))!;
    const replacement = startPublisher({ url: env.origin.rtmpUrl(stream.streamKey), ...SMALL });
    const { all } = await segmentsUntil(env.hls, mediaUrl, (seen) => seen.some((s) => s.sequence > before + 1), 20_000);
    expect(all.filter((s) => s.sequence > before - 1 && s.discontinuity)).toHaveLength(1);
    expect(replacement.child.exitCode).toBeNull();
    expect(env.origin.registry.getByStreamId(stream.id)?.info()).toMatchObject({ state: 'live', reconnects: 1 });
    publisher.child.kill('SIGCONT');
    // the old connection was cut: its ffmpeg notices and gives up
    const old = await publisher.exited;
    expect(old.code).not.toBe(0);
  });

  test('a transcoder killed with SIGKILL is restarted: new segments, same URLs, a discontinuity', async () => {
    const { stream, masterUrl, mediaUrl, master } = await goLive(env.origin, env.hls);
    await segmentsUntil(env.hls, mediaUrl, (all) => all.length >= 2, 15_000);
    const [pid] = ffmpegProcessesMentioning(`sessions/${env.origin.registry.getByStreamId(stream.id)!.id}`);
    expect(pid).toBeDefined();
    const killedAt = Date.now();
    const before = lastSequence(await env.hls.media(mediaUrl))!;
    process.kill(pid!, 'SIGKILL');
    const { all } = await segmentsUntil(env.hls, mediaUrl, (seen) => seen.some((s) => s.sequence > before + 1), 20_000);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(all.find((s) => s.sequence > before && s.discontinuity)).toBeDefined();
    expect((await env.hls.text(masterUrl)).text).toBe(master.text);
    expect(env.origin.registry.getByStreamId(stream.id)?.info().transcoderRestarts).toBe(1);
    expect(env.origin.logs.some((l) => l.msg === 'the transcoder exited unexpectedly' && l.session === env.origin.registry.getByStreamId(stream.id)!.id)).toBe(true);
    await env.origin.registry.stopStream(stream.id, 'kicked');
  });

  test('a stalled transcoder (no segment for 2 segment durations) is found by the watchdog and replaced', async () => {
    const { stream, mediaUrl } = await goLive(env.origin, env.hls);
    await segmentsUntil(env.hls, mediaUrl, (all) => all.length >= 2, 15_000);
    const sessionId = env.origin.registry.getByStreamId(stream.id)!.id;
    const [pid] = ffmpegProcessesMentioning(`sessions/${sessionId}`);
    const before = lastSequence(await env.hls.media(mediaUrl))!;
    process.kill(pid!, 'SIGSTOP');
    await segmentsUntil(env.hls, mediaUrl, (seen) => seen.some((s) => s.sequence > before + 1), 25_000);
    expect(env.origin.logs.some((l) => l.msg === 'no new output from the transcoder: it is stalled' && l.session === sessionId)).toBe(true);
    // the stopped process was killed, not left behind
    await waitFor(() => !ffmpegProcessesMentioning(`sessions/${sessionId}`).includes(pid!), { what: 'the stalled ffmpeg to be gone', timeoutMs: 5000 });
    expect(await env.origin.metrics.registry.getSingleMetricAsString('origin_transcoder_stalls_total')).toMatch(/origin_transcoder_stalls_total\{node="[^"]+"\} \d/);
    await env.origin.registry.stopStream(stream.id, 'kicked');
  });

  test('past the restart limit the session ends with a clear reason and the publisher is cut off', async () => {
    const { stream, publisher, mediaUrl } = await goLive(env.origin, env.hls);
    await segmentsUntil(env.hls, mediaUrl, (all) => all.length >= 1, 15_000);
    const sessionId = env.origin.registry.getByStreamId(stream.id)!.id;
    for (let kill = 0; kill < 3; kill++) {
      const pids = await waitFor(
        () => {
          const found = ffmpegProcessesMentioning(`sessions/${sessionId}`);
          return found.length === 1 && found;
        },
        { what: 'a running transcoder', timeoutMs: 15_000 },
      );
      process.kill(pids[0]!, 'SIGKILL');
      if (kill < 2) await waitFor(() => env.origin.registry.getByStreamId(stream.id)?.info().transcoderRestarts === kill + 1, { what: 'a restart', timeoutMs: 10_000 });
    }
    await waitFor(() => env.origin.registry.getByStreamId(stream.id) === undefined, { what: 'the session to end', timeoutMs: 15_000 });
    expect((await env.origin.sessions.findById(sessionId))?.endReason).toBe('transcoder_failed');
    expect((await publisher.exited).code).not.toBe(0);
    expect((await env.hls.media(mediaUrl)).endList).toBe(true);
  });
});

describe('transcoder back-pressure', () => {
  // A tiny input allowance, and a watchdog too patient to step in first.
  const env = useTestOrigin({ overrides: { transcode: { sourceRung: false, backlogWarnMegabytes: 0.1, backlogMaxMegabytes: 0.6, stallSegments: 20 } } });

  test('an ffmpeg that stops reading: logged, counted, and the session ends before memory grows', async () => {
    const { stream, publisher, mediaUrl } = await goLive(env.origin, env.hls);
    await segmentsUntil(env.hls, mediaUrl, (all) => all.length >= 1, 15_000);
    const sessionId = env.origin.registry.getByStreamId(stream.id)!.id;
    const [pid] = ffmpegProcessesMentioning(`sessions/${sessionId}`);
    process.kill(pid!, 'SIGSTOP');
    await waitFor(() => env.origin.registry.getByStreamId(stream.id) === undefined, { what: 'the session to end', timeoutMs: 30_000 });
    expect((await env.origin.sessions.findById(sessionId))?.endReason).toBe('transcoder_overloaded');
    expect(env.origin.logs.some((l) => l.msg === 'the transcoder is falling behind the input')).toBe(true);
    const metric = await env.origin.metrics.registry.getSingleMetricAsString('origin_transcoder_backlog_events_total');
    expect(metric).toContain('outcome="warned"');
    expect(metric).toContain('outcome="ended"');
    expect((await publisher.exited).code).not.toBe(0);
    await waitFor(() => ffmpegProcessesMentioning(env.origin.dir).length === 0, { what: 'no ffmpeg left', timeoutMs: 10_000 });
  });
});
