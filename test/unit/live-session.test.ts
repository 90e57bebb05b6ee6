import { Writable } from 'node:stream';
import type { MediaTag } from '../../src/ingest/media';
import type { Publisher, PublisherListener } from '../../src/ingest/publisher';
import { LiveSession, type SessionSettings, type SessionState } from '../../src/live/live-session';
import type { OutputEvents, SessionMedia } from '../../src/live/session-output';
import type { SessionRecord } from '../../src/live/session-repository';
import { createLogger } from '../../src/observability/logger';
import { createMetrics } from '../../src/observability/metrics';
import type { StreamRecord } from '../../src/streams/stream-repository';
import { planLadder, type Profile } from '../../src/transcode/ladder';

const SETTINGS: SessionSettings = {
  segmentSeconds: 2,
  partSeconds: 0.334,
  listSize: 10,
  preset: 'veryfast',
  audioBitrateKbps: 128,
  stopGraceMs: 5000,
  maxRestarts: 3,
  restartWindowMs: 600_000,
  stallSegments: 3,
  startupGraceMs: 10_000,
  backlogWarnBytes: 8 * 2 ** 20,
  backlogMaxBytes: 64 * 2 ** 20,
  firstMediaTimeoutMs: 15_000,
  reconnectWindowMs: 30_000,
  takeoverIdleMs: 2000,
};

const STREAM: StreamRecord = {
  id: 'stream',
  name: 'Test',
  playbackId: 'PB',
  enabled: true,
  profile: 'passthrough',
  record: false,
  reconnectWindowSeconds: null,
  latencyMode: 'low',
  playback: 'public',
  createdAt: 0,
  updatedAt: 0,
  kickRequestedAt: null,
};

/** A publisher the test drives: its media and its close. */
class FakePublisher implements Publisher {
  readonly id = `p${Math.random()}`;
  readonly connectedAt = 0;
  bytesIn = 0;
  lastDataAt = 0;
  disconnected = false;
  private listener: PublisherListener | undefined;
  constructor(readonly clientAddress: string) {}
  listen(listener: PublisherListener): void {
    this.listener = listener;
  }
  disconnect(): void {
    this.disconnected = true;
  }
  send(tag: MediaTag): void {
    this.lastDataAt = Date.now();
    this.listener!.media(tag);
  }
  close(why: 'client_closed' | 'unpublished'): void {
    this.listener!.close(why);
  }
}

/** The output as the state machine sees it: records what it is asked, goes live when told. */
class FakeOutput implements SessionMedia {
  plan: SessionMedia['plan'];
  progress = undefined;
  transcoderRestarts = 0;
  runs = 0;
  written = 0;
  finished: { drain: boolean; keepPoster: boolean } | undefined;
  constructor(
    readonly events: OutputEvents,
    private readonly profile: Profile,
  ) {}
  prepare(source: Parameters<SessionMedia['prepare']>[0]): void {
    this.plan = planLadder(source, { profile: this.profile, audioBitrateKbps: 128 });
  }
  watchedRun: ReturnType<SessionMedia['watched']>;
  watched() {
    return this.watchedRun;
  }
  startRun(): void {
    this.runs += 1;
  }
  economy = false;
  economize(): void {
    this.economy = true;
    this.runs += 1;
  }
  write(): void {
    this.written += 1;
  }
  endInput(): void {}
  restart(): void {}
  posterSource() {
    return undefined;
  }
  async finish({ drain, keepPoster }: { drain: boolean; keepPoster: boolean }): Promise<void> {
    this.finished = { drain, keepPoster };
  }
}

const bytes = Buffer.alloc(1);
const videoConfig: MediaTag = {
  kind: 'video',
  codec: 'h264',
  keyframe: false,
  timestamp: 0,
  bytes,
  data: bytes,
  compositionTime: 0,
  config: { codec: 'h264', codecString: 'avc1.64001f', width: 640, height: 360 },
};
const audioConfig: MediaTag = { kind: 'audio', codec: 'aac', timestamp: 0, bytes, data: bytes, config: { codec: 'aac', sampleRate: 48000, channels: 2 } };
const frame = (timestamp: number, keyframe = false): MediaTag => ({ kind: 'video', codec: 'h264', keyframe, timestamp, bytes, data: bytes, compositionTime: 0 });
const sound = (timestamp: number): MediaTag => ({ kind: 'audio', codec: 'aac', timestamp, bytes, data: bytes });

const PASSTHROUGH: Profile = { kind: 'passthrough', rungs: [], sourceRung: true };

function setup(stream: Partial<StreamRecord> = {}, profile = PASSTHROUGH) {
  const states: SessionState[] = [];
  const gone: string[] = [];
  const rows: Array<Partial<SessionRecord>> = [];
  let output: FakeOutput | undefined;
  const session = new LiveSession({
    id: 'session00000000a',
    stream: { ...STREAM, ...stream },
    node: 'node',
    settings: SETTINGS,
    createOutput: (events) => (output = new FakeOutput(events, profile)),
    store: {
      insert: async (record) => void rows.push(record),
      update: async (_id, _node, patch) => void rows.push(patch),
      adopt: async (_id, _node, patch) => void rows.push(patch),
    },
    logger: createLogger({ level: 'silent', format: 'json', destination: new Writable({ write: (_c, _e, done) => done() }) }),
    metrics: createMetrics({ viewerCounts: () => new Map(), liveStreams: () => [] }),
    now: () => Date.now(),
    onStateChange: (_session, state) => states.push(state),
    onPublisherGone: (_session, why) => gone.push(why),
  });
  return { session, states, gone, rows, output: () => output! };
}

/** A publisher that sends its headers and a keyframe with audio: enough for the probe. */
function publish(publisher: FakePublisher): void {
  publisher.send(videoConfig);
  publisher.send(audioConfig);
  publisher.send(frame(0, true));
  publisher.send(sound(10));
}

describe('LiveSession: the state machine', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  test("authorizing → starting → live → (deliberate stop) ending → ended, with the publisher's address recorded from the start", async () => {
    const { session, states, gone, rows, output } = setup();
    const publisher = new FakePublisher('203.0.113.7');
    session.begin(publisher);
    expect(session.state).toBe('starting');
    publish(publisher);
    expect(output().runs).toBe(1);
    output().events.onLive();
    expect(session.state).toBe('live');
    expect(session.viewable).toBe(true);
    publisher.send(frame(33));
    expect(output().written).toBeGreaterThan(0);
    publisher.close('unpublished');
    await session.whenEnded();
    expect(states).toEqual(['starting', 'live', 'ending', 'ended']);
    expect(session.reason).toBe('publisher_left');
    expect(gone).toEqual(['unpublished']);
    expect(output().finished).toEqual({ drain: true, keepPoster: true });
    await jest.runAllTimersAsync();
    expect(rows.find((row) => row.clientAddress !== undefined && row.clientAddress !== null)).toMatchObject({ clientAddress: '203.0.113.7' });
    expect(rows.at(-1)).toMatchObject({ state: 'ended', endReason: 'publisher_left' });
  });

  test('a drop waits for the publisher: live → reconnecting → live again on a new publish; the window expires otherwise', async () => {
    const { session, states } = setup();
    const first = new FakePublisher('a');
    session.begin(first);
    publish(first);
    (session as unknown as { output: FakeOutput }).output.events.onLive();
    first.close('client_closed');
    expect(session.state).toBe('reconnecting');
    expect(session.canResume(Date.now())).toBe(true);
    jest.advanceTimersByTime(20_000);
    const second = new FakePublisher('b');
    session.resume(second);
    expect(session.state).toBe('live');
    second.close('client_closed');
    jest.advanceTimersByTime(29_999);
    expect(session.state).toBe('reconnecting');
    jest.advanceTimersByTime(1);
    await session.whenEnded();
    expect(session.reason).toBe('reconnect_window_expired');
    expect(states).toEqual(['starting', 'live', 'reconnecting', 'live', 'reconnecting', 'ending', 'ended']);
  });

  test('a healthy publisher cannot be taken over; one silent for the takeover time can', () => {
    const { session } = setup();
    const first = new FakePublisher('a');
    session.begin(first);
    publish(first);
    expect(session.canResume(Date.now())).toBe(false);
    jest.advanceTimersByTime(SETTINGS.takeoverIdleMs);
    expect(session.canResume(Date.now())).toBe(true);
    session.resume(new FakePublisher('b'));
    expect(first.disconnected).toBe(true);
  });

  test('no usable media in time ends the session with no_media; stop() is idempotent', async () => {
    const { session, states } = setup();
    session.begin(new FakePublisher('a'));
    jest.advanceTimersByTime(SETTINGS.firstMediaTimeoutMs);
    const first = session.whenEnded();
    const again = session.stop('kicked');
    await Promise.all([first, again]);
    expect(session.reason).toBe('no_media');
    expect(states.filter((state) => state === 'ended')).toHaveLength(1);
  });

  test('a publisher that comes back without the video the session was planned for: the session goes on with its audio, and says so', async () => {
    const { session, output } = setup();
    const first = new FakePublisher('a');
    session.begin(first);
    publish(first);
    output().events.onLive();
    first.close('client_closed');
    const second = new FakePublisher('b');
    session.resume(second);
    second.send({ kind: 'metadata', timestamp: 0, bytes, metadata: { hasVideo: false, hasAudio: true } });
    second.send(audioConfig);
    second.send(sound(0));
    await jest.advanceTimersByTimeAsync(1000);
    expect(session.state).toBe('live');
    expect(output().runs).toBe(2);
    expect(session.info().warnings).toEqual(['video_track_missing']);
    await session.stop('kicked');
  });

  test('tracks that change while a publisher sends: one that appears restarts the run with it, one that stops is said and gone on without', async () => {
    const { session, output } = setup();
    const publisher = new FakePublisher('a');
    session.begin(publisher);
    // Audio alone at first: the plan has no video.
    publisher.send(audioConfig);
    publisher.send(sound(0));
    await jest.advanceTimersByTimeAsync(1000);
    expect(output().runs).toBe(1);
    expect(output().plan!.video).toHaveLength(0);
    // Then video: its sequence header, frames that cannot start anything, and a keyframe, which starts a run with it.
    publisher.send(videoConfig);
    publisher.send(frame(1100));
    expect(output().runs).toBe(1);
    publisher.send(frame(1200, true));
    expect(output().runs).toBe(2);
    expect(session.info().warnings).toEqual(['video_track_appeared']);
    expect(session.info().ingest.video?.width).toBe(640);
    // Then the audio stops while the video goes on: after three seconds of video without it.
    for (let t = 1233; t < 4000; t += 33) publisher.send(frame(t, t === 2433));
    expect(output().runs).toBe(2);
    publisher.send(frame(4300, true));
    expect(output().runs).toBe(3);
    expect(session.info().warnings).toEqual(['video_track_appeared', 'audio_track_missing']);
    expect(session.info().ingest.audio).toBeUndefined();
    await session.stop('kicked');
  });

  test('a transcoder slower than real time: made cheaper first, and if that does not do, the session ends (transcoder_overloaded)', async () => {
    const { session, output } = setup();
    const publisher = new FakePublisher('a');
    session.begin(publisher);
    publish(publisher);
    output().events.onLive();
    const sends = setInterval(() => {
      publisher.send(frame(Date.now() - 1_000_000));
      publisher.send(sound(Date.now() - 1_000_000));
    }, 500);
    output().watchedRun = { startedAt: Date.now(), lastOutputAt: Date.now(), backlogBytes: 0, speed: 0.7 };
    const keepOutput = setInterval(() => (output().watchedRun!.lastOutputAt = Date.now()), 500);
    await jest.advanceTimersByTimeAsync(21_000);
    expect(output().economy).toBe(true);
    expect(session.info().warnings).toEqual(['transcoder_slow']);
    expect(session.state).toBe('live');
    await jest.advanceTimersByTimeAsync(21_000);
    clearInterval(sends);
    clearInterval(keepOutput);
    await session.whenEnded();
    expect(session.reason).toBe('transcoder_overloaded');
  });

  test('a long keyframe interval is said once the publisher keeps to it, and only where renditions are cut at its keyframes', async () => {
    /** The session's warnings after a publisher sends GOPs of these lengths (ms), with audio. */
    const warningsFor = async (profile: Profile, gops: number[]) => {
      const { session } = setup({}, profile);
      const publisher = new FakePublisher('a');
      session.begin(publisher);
      publish(publisher);
      let keyframeAt = 0;
      for (const gop of gops) {
        for (let t = keyframeAt + 33; t < keyframeAt + gop; t += 33) {
          publisher.send(frame(t));
          publisher.send(sound(t));
        }
        keyframeAt += gop;
        publisher.send(frame(keyframeAt, true));
      }
      const warnings = session.info().warnings;
      await session.stop('kicked');
      return warnings;
    };
    const encodedOnly: Profile = { kind: 'ladder', rungs: [{ name: '240p', height: 240, videoBitrateKbps: 400 }], sourceRung: false };
    expect(await warningsFor(PASSTHROUGH, [4000, 4000, 4000])).toEqual(['keyframe_interval_too_long']);
    // One long GOP (as an encoder sends while it connects) among 2 s ones: nothing to say.
    expect(await warningsFor(PASSTHROUGH, [2000, 3300, 2000, 2000])).toEqual([]);
    // Encoded on their own, the rungs get keyframes every segment whatever the source sends.
    expect(await warningsFor(encodedOnly, [4000, 4000, 4000])).toEqual([]);
  });

  test('an exception inside the session ends that session with internal_error', async () => {
    const { session, output } = setup();
    const publisher = new FakePublisher('a');
    session.begin(publisher);
    publish(publisher);
    output().write = () => {
      throw new Error('boom');
    };
    publisher.send(frame(33));
    await session.whenEnded();
    expect(session.reason).toBe('internal_error');
    expect(output().finished).toEqual({ drain: false, keepPoster: true });
  });
});
