import type { MediaTag, VideoCodec } from '../../src/ingest/media';
import { SourceProbe } from '../../src/live/source-probe';

const bytes = (label: string) => Buffer.from(label);
const meta = (metadata: Extract<MediaTag, { kind: 'metadata' }>['metadata']): MediaTag => ({ kind: 'metadata', timestamp: 0, metadata, bytes: bytes('meta') });
const videoConfig = (codec: VideoCodec = 'h264'): MediaTag => ({
  kind: 'video',
  codec,
  keyframe: false,
  timestamp: 0,
  bytes: bytes('vcfg'),
  data: bytes('vcfg'),
  compositionTime: 0,
  config: { codec, codecString: 'avc1.64001f', width: 1280, height: 720 },
});
const frame = (timestamp: number, keyframe = false): MediaTag => ({
  kind: 'video',
  codec: 'h264',
  keyframe,
  timestamp,
  bytes: bytes(`v${timestamp}${keyframe ? 'k' : ''}`),
  data: bytes(''),
  compositionTime: 0,
});
const audioConfig = (): MediaTag => ({
  kind: 'audio',
  codec: 'aac',
  timestamp: 0,
  bytes: bytes('acfg'),
  data: bytes('acfg'),
  config: { codec: 'aac', codecString: 'mp4a.40.2', sampleRate: 48000, channels: 2 },
});
const audio = (timestamp: number): MediaTag => ({ kind: 'audio', codec: 'aac', timestamp, bytes: bytes(`a${timestamp}`), data: bytes('') });

describe('source probe', () => {
  test('audio+video announced by metadata: ready at the first keyframe once audio is seen', () => {
    const probe = new SourceProbe();
    probe.push(meta({ hasVideo: true, hasAudio: true, frameRate: 30, videoBitrateKbps: 2500 }), 0);
    probe.push(videoConfig(), 0);
    probe.push(frame(0), 0); // before any keyframe: dropped
    probe.push(audioConfig(), 0);
    probe.push(audio(10), 0);
    expect(probe.outcome(0)).toEqual({ ready: false });
    probe.push(frame(40, true), 10);
    probe.push(audio(50), 20);
    const outcome = probe.outcome(20);
    if (!outcome.ready || !('result' in outcome)) throw new Error('expected a result');
    expect(outcome.result.source).toEqual({
      video: { codec: 'h264', width: 1280, height: 720, frameRate: 30, codecString: 'avc1.64001f', bitrateKbps: 2500 },
      audio: { codec: 'aac', codecString: 'mp4a.40.2', sampleRate: 48000, channels: 2 },
    });
    // script data and sequence headers apart; media from the keyframe on (audio before it is dropped)
    expect([outcome.result.metadata, outcome.result.videoConfig, outcome.result.audioConfig].map((tag) => String(tag?.bytes))).toEqual(['meta', 'vcfg', 'acfg']);
    expect(outcome.result.media.map((tag) => String(tag.bytes))).toEqual(['v40k', 'a50']);
  });

  test('video only without metadata: waits a moment for audio, then goes on', () => {
    const probe = new SourceProbe();
    probe.push(videoConfig(), 0);
    probe.push(frame(0, true), 0);
    expect(probe.outcome(500)).toEqual({ ready: false });
    expect(probe.nextCheckAt(500)).toBe(1000);
    const outcome = probe.outcome(1000);
    expect(outcome.ready && 'result' in outcome && outcome.result.source.audio).toBeUndefined();
    expect(outcome.ready && 'result' in outcome && outcome.result.source.video?.height).toBe(720);
  });

  test('metadata saying there is no video does not settle it: audio alone goes on after a moment without video', () => {
    const probe = new SourceProbe();
    probe.push(meta({ hasVideo: false, hasAudio: true }), 0);
    probe.push(audioConfig(), 0);
    probe.push(audio(0), 0);
    expect(probe.outcome(0)).toEqual({ ready: false });
    const outcome = probe.outcome(1000);
    expect(outcome.ready && 'result' in outcome && outcome.result.source).toEqual({ audio: { codec: 'aac', codecString: 'mp4a.40.2', sampleRate: 48000, channels: 2 } });
    expect(outcome.ready && 'result' in outcome && outcome.result.videoConfig).toBeUndefined();
  });

  test("a first onMetaData without videocodecid (GStreamer's flvmux) does not lose the video that arrives", () => {
    // As the session asks: after every tag, until the probe is ready.
    const firstReady = (tags: Array<[MediaTag, number]>) => {
      const probe = new SourceProbe();
      for (const [tag, at] of tags) {
        probe.push(tag, at);
        const outcome = probe.outcome(at);
        if (outcome.ready) return outcome;
      }
      return undefined;
    };
    const soon = firstReady([
      [meta({ hasVideo: false, hasAudio: true }), 0],
      [audioConfig(), 0],
      [audio(0), 0],
      [audio(21), 30],
      [videoConfig(), 200],
      [frame(180, true), 200],
      [audio(200), 210],
    ]);
    expect(soon && 'result' in soon && Object.keys(soon.result.source).sort()).toEqual(['audio', 'video']);
    // video seen without a keyframe yet when the wait ends: waited for
    const late = firstReady([
      [meta({ hasVideo: false, hasAudio: true }), 0],
      [audio(0), 0],
      [videoConfig(), 900],
      [frame(900), 900],
      [audio(1500), 1500],
      [frame(1600, true), 1600],
    ]);
    expect(late && 'result' in late && Object.keys(late.result.source).sort()).toEqual(['audio', 'video']);
  });

  test('a publisher sending faster than real time shows its tracks by media time', () => {
    const probe = new SourceProbe();
    probe.push(videoConfig(), 0);
    for (let t = 0; t <= 1000; t += 40) probe.push(frame(t, t === 0), 5);
    const outcome = probe.outcome(5);
    expect(outcome.ready && 'result' in outcome && Object.keys(outcome.result.source)).toEqual(['video']);
  });

  test('announced video that never comes: audio only after 5 s', () => {
    const probe = new SourceProbe();
    probe.push(meta({ hasVideo: true, hasAudio: true }), 0);
    probe.push(audio(0), 0);
    expect(probe.outcome(4000)).toEqual({ ready: false });
    expect(probe.nextCheckAt(4000)).toBe(5000);
    const outcome = probe.outcome(5000);
    expect(outcome.ready && 'result' in outcome && Object.keys(outcome.result.source)).toEqual(['audio']);
  });

  test('VP9 (and any codec but H.264, HEVC and AV1) is refused with a reason', () => {
    for (const codec of ['vp9', 'other'] as const) {
      const probe = new SourceProbe();
      probe.push(videoConfig(codec), 0);
      expect(probe.outcome(0)).toEqual({ ready: true, error: 'unsupported_codec', message: `video codec ${codec} is not supported; send H.264, HEVC or AV1` });
    }
    for (const codec of ['hevc', 'av1'] as const) {
      const probe = new SourceProbe();
      probe.push(videoConfig(codec), 0);
      expect(probe.outcome(0)).toEqual({ ready: false });
    }
  });

  test('video without a keyframe does not grow memory forever', () => {
    const probe = new SourceProbe();
    probe.push(videoConfig(), 0);
    probe.push(audio(0), 0);
    const big: MediaTag = { kind: 'audio', codec: 'aac', timestamp: 1, bytes: Buffer.alloc(1024 * 1024), data: Buffer.alloc(0) };
    for (let i = 0; i < 17; i++) probe.push(big, 100);
    expect(probe.outcome(200)).toMatchObject({ ready: true, error: 'no_keyframe' });
  });
});
