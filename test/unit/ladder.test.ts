import type { RungConfig } from '../../src/config/schema';
import { h264Level, planLadder, renditionNames, type Profile, type SourceInfo, unplayableProfile } from '../../src/transcode/ladder';

const rungs: RungConfig[] = [
  { name: '720p', height: 720, videoBitrateKbps: 2800 },
  { name: '480p', height: 480, videoBitrateKbps: 1400 },
  { name: '360p', height: 360, videoBitrateKbps: 800 },
];
const ladder = (sourceRung = false, list: RungConfig[] = rungs): Profile => ({ kind: 'ladder', rungs: list, sourceRung });
const options = (profile: Profile = ladder()) => ({ profile, audioBitrateKbps: 128 });
const h264 = (width: number, height: number, frameRate?: number): SourceInfo['video'] => ({
  codec: 'h264',
  width,
  height,
  codecString: 'avc1.64001f',
  ...(frameRate !== undefined && { frameRate }),
});
const aac: SourceInfo['audio'] = { codec: 'aac', codecString: 'mp4a.40.2', channels: 2, bitrateKbps: 160 };
const mp3: SourceInfo['audio'] = { codec: 'mp3' };

describe('ladder planning', () => {
  test('1080p source: the three default rungs, 16:9 widths', () => {
    const plan = planLadder({ video: h264(1920, 1080, 30), audio: mp3 }, options());
    expect(plan.video.map((r) => [r.name, r.mode, r.width, r.height])).toEqual([
      ['720p', 'encode', 1280, 720],
      ['480p', 'encode', 854, 480],
      ['360p', 'encode', 640, 360],
    ]);
    expect(plan.keyframes).toBe('grid');
    expect(plan.audio).toEqual([{ name: 'audio', mode: 'encode', bitrateKbps: 128, channels: 2, codecString: 'mp4a.40.2' }]);
    expect(plan.video.every((r) => r.audioGroup === 'audio')).toBe(true);
    expect(plan.poster).toEqual({ width: 640, height: 360 });
  });

  test('rungs never go above the source', () => {
    expect(planLadder({ video: h264(1280, 720) }, options()).video.map((r) => r.height)).toEqual([720, 480, 360]);
    expect(planLadder({ video: h264(854, 480) }, options()).video.map((r) => r.height)).toEqual([480, 360]);
    expect(planLadder({ video: h264(720, 404) }, options()).video.map((r) => r.height)).toEqual([360]);
  });

  test('a source below every rung gets one rendition at its own (even) height', () => {
    const plan = planLadder({ video: h264(426, 241) }, options());
    expect(plan.video).toHaveLength(1);
    expect(plan.video[0]).toMatchObject({ name: '240p', mode: 'encode', width: 424, height: 240, videoBitrateKbps: 800 });
    expect(plan.poster).toEqual({ width: 424, height: 240 });
  });

  test('with a source rung: the H.264 source is copied and rungs at its height are left to it', () => {
    const plan = planLadder({ video: h264(1280, 720, 30), audio: aac }, options(ladder(true)));
    expect(plan.video.map((r) => [r.name, r.mode, r.width, r.height, r.codecString])).toEqual([
      ['source', 'copy', 1280, 720, 'avc1.64001f'],
      ['480p', 'encode', 854, 480, 'avc1.64001f'],
      ['360p', 'encode', 640, 360, 'avc1.4d401e'],
    ]);
    expect(plan.keyframes).toBe('source');
    const small = planLadder({ video: h264(640, 360) }, options(ladder(true)));
    expect(small.video.map((r) => [r.name, r.mode])).toEqual([['source', 'copy']]);
  });

  test('a rung capping the frame rate keeps the source rung beside it (the cap keeps every source keyframe)', () => {
    const capped = ladder(true, [{ name: '720p', height: 720, videoBitrateKbps: 2800, maxFps: 30 }]);
    const plan = planLadder({ video: h264(1920, 1080, 60) }, options(capped));
    expect(plan.video.map((r) => [r.name, r.mode, r.mode === 'encode' ? r.frameRate : undefined])).toEqual([
      ['source', 'copy', undefined],
      ['720p', 'encode', 30],
    ]);
    expect(plan.keyframes).toBe('source');
  });

  test('HEVC and AV1 with a source rung: the source is copied in its codec and H.264 is encoded at every rung up to its own size', () => {
    const hevc: SourceInfo['video'] = { codec: 'hevc', width: 1280, height: 720, codecString: 'hvc1.1.6.L93.90', frameRate: 30 };
    const plan = planLadder({ video: hevc, audio: aac }, options(ladder(true)));
    expect(plan.video.map((r) => [r.name, r.mode, r.height, r.codecString.slice(0, 4)])).toEqual([
      ['source', 'copy', 720, 'hvc1'],
      ['720p', 'encode', 720, 'avc1'],
      ['480p', 'encode', 480, 'avc1'],
      ['360p', 'encode', 360, 'avc1'],
    ]);
    expect(plan.keyframes).toBe('source');
    const av1: SourceInfo['video'] = { codec: 'av1', width: 640, height: 360 };
    expect(planLadder({ video: av1 }, options(ladder(true))).video.map((r) => [r.name, r.mode, r.codecString])).toEqual([
      ['source', 'copy', 'av01.0.08M.08'],
      ['360p', 'encode', expect.stringMatching(/^avc1\./)],
    ]);
    expect(planLadder({ video: av1 }, options({ kind: 'passthrough', rungs: [], sourceRung: true })).video.map((r) => [r.name, r.mode])).toEqual([['source', 'copy']]);
  });

  test('passthrough: the source video and its AAC audio are copied, nothing is encoded', () => {
    const plan = planLadder({ video: h264(1920, 1080, 30), audio: aac }, options({ kind: 'passthrough', rungs: [], sourceRung: true }));
    expect(plan.video).toEqual([{ mode: 'copy', name: 'source', width: 1920, height: 1080, codecString: 'avc1.64001f', audioGroup: 'audio' }]);
    expect(plan.audio).toEqual([{ name: 'audio', mode: 'copy', bitrateKbps: 160, channels: 2, codecString: 'mp4a.40.2' }]);
  });

  test('audio: AAC is copied, other codecs are encoded, surround AAC is encoded to stereo', () => {
    expect(planLadder({ audio: aac }, options()).audio[0]?.mode).toBe('copy');
    expect(planLadder({ audio: mp3 }, options()).audio[0]?.mode).toBe('encode');
    expect(planLadder({ audio: { ...aac, channels: 6 } }, options()).audio[0]).toMatchObject({ mode: 'encode', channels: 2 });
  });

  test('per-rung audio bitrates: one audio rendition per bitrate, each rung in its group', () => {
    const custom = ladder(false, [
      { name: '540p', height: 540, videoBitrateKbps: 1600, audioBitrateKbps: 96 },
      { name: '270p', height: 270, videoBitrateKbps: 400, audioBitrateKbps: 64 },
    ]);
    const plan = planLadder({ video: h264(1280, 720, 30), audio: aac }, options(custom));
    expect(plan.audio.map((a) => [a.name, a.mode, a.bitrateKbps])).toEqual([
      ['audio_96k', 'encode', 96],
      ['audio_64k', 'encode', 64],
    ]);
    expect(plan.video.map((r) => [r.name, r.audioGroup])).toEqual([
      ['540p', 'audio_96k'],
      ['270p', 'audio_64k'],
    ]);
    expect(renditionNames(plan)).toEqual(['540p', '270p', 'audio_96k', 'audio_64k']);
  });

  test('widths follow the source aspect ratio and stay even', () => {
    const portrait = planLadder({ video: h264(1080, 1920) }, options());
    expect(portrait.video.map((r) => [r.width, r.height])).toEqual([
      [406, 720],
      [270, 480],
      [202, 360],
    ]);
    expect(planLadder({ video: h264(1440, 1080) }, options()).video[0]).toMatchObject({ width: 960, height: 720 });
  });

  test('audio-only and video-only sources', () => {
    expect(planLadder({ audio: aac }, options())).toMatchObject({ video: [], audio: [{ name: 'audio' }] });
    expect(planLadder({ audio: aac }, options()).poster).toBeUndefined();
    const videoOnly = planLadder({ video: h264(1280, 720) }, options());
    expect(videoOnly.audio).toEqual([]);
    expect(videoOnly.video[0]?.audioGroup).toBeUndefined();
  });

  test('bitrates: maxrate 1.1x the target unless configured, buffer twice the maxrate', () => {
    const plan = planLadder(
      { video: h264(1280, 720) },
      options(
        ladder(false, [
          { name: 'x', height: 720, videoBitrateKbps: 3000, maxrateKbps: 3500 },
          { name: 'y', height: 360, videoBitrateKbps: 800 },
        ]),
      ),
    );
    expect(plan.video.map((r) => (r.mode === 'encode' ? [r.videoBitrateKbps, r.maxrateKbps, r.bufsizeKbps] : []))).toEqual([
      [3000, 3500, 7000],
      [800, 880, 1760],
    ]);
  });

  test('a frame-rate cap applies only when the source is faster', () => {
    const capped = ladder(false, [{ name: '720p', height: 720, videoBitrateKbps: 2800, maxFps: 30 }]);
    const at60 = planLadder({ video: h264(1280, 720, 60) }, options(capped)).video[0];
    expect(at60?.mode === 'encode' && at60.frameRate).toBe(30);
    const at25 = planLadder({ video: h264(1280, 720, 25) }, options(capped)).video[0];
    expect(at25?.mode === 'encode' && at25.frameRate).toBeUndefined();
  });

  test('profiles, levels and codec strings', () => {
    const plan = planLadder({ video: h264(1280, 720, 30) }, options());
    expect(plan.video.map((r) => (r.mode === 'encode' ? [r.profile, r.level, r.codecString] : []))).toEqual([
      ['high', '3.1', 'avc1.64001f'],
      ['high', '3.1', 'avc1.64001f'],
      ['main', '3.0', 'avc1.4d401e'],
    ]);
    const at60 = planLadder({ video: h264(1280, 720, 60) }, options()).video[0];
    expect(at60?.mode === 'encode' && at60.level).toBe('3.2');
    // an unknown frame rate is sized for 60 fps
    const unknown = planLadder({ video: h264(1280, 720) }, options()).video[0];
    expect(unknown?.mode === 'encode' && unknown.level).toBe('3.2');
  });

  test('H.264 level table', () => {
    expect(h264Level(1920, 1080, 30, 6000, 'high')).toBe('4.0');
    expect(h264Level(1920, 1080, 60, 6000, 'high')).toBe('4.2');
    expect(h264Level(1920, 1080, 30, 30000, 'high')).toBe('4.1');
    expect(h264Level(3840, 2160, 30, 20000, 'high')).toBe('5.1');
    expect(h264Level(640, 360, 30, 880, 'main')).toBe('3.0');
  });
});

describe('sources most players cannot decode', () => {
  const rungs = [
    { name: '720p', height: 720, videoBitrateKbps: 2800 },
    { name: '480p', height: 480, videoBitrateKbps: 1400 },
  ];
  const profile: Profile = { kind: 'ladder', rungs, sourceRung: true };
  const opts = { profile, audioBitrateKbps: 128 };

  test('High 10, 4:2:2 and 4:4:4 are named; Baseline, Main and High are not', () => {
    const video = (codecString: string) => ({ codec: 'h264' as const, width: 1920, height: 1080, codecString });
    expect(['avc1.6e0028', 'avc1.7a0028', 'avc1.f40028', 'avc1.640028', 'avc1.4d401f', 'avc1.42e01e'].map((c) => unplayableProfile(video(c)) ?? null)).toEqual([
      'High 10',
      'High 4:2:2',
      'High 4:4:4 Predictive',
      null,
      null,
      null,
    ]);
  });

  test('in the ladder, the top rendition is encoded (8-bit 4:2:0, High) at the source size instead of copied', () => {
    const plan = planLadder({ video: { codec: 'h264', width: 1920, height: 1080, frameRate: 30, codecString: 'avc1.7a0028' } }, opts);
    expect(plan.video.map((v) => [v.name, v.mode, v.height, v.mode === 'encode' ? v.videoBitrateKbps : 0, v.codecString.slice(0, 9)])).toEqual([
      ['1080p', 'encode', 1080, 6300, 'avc1.6400'],
      ['720p', 'encode', 720, 2800, 'avc1.6400'],
      ['480p', 'encode', 480, 1400, 'avc1.6400'],
    ]);
    expect(plan.keyframes).toBe('grid');
    // a rung of the source's height gives its settings
    const at720 = planLadder({ video: { codec: 'h264', width: 1280, height: 720, codecString: 'avc1.6e001f' } }, opts);
    expect(at720.video.map((v) => [v.name, v.mode, v.mode === 'encode' ? v.videoBitrateKbps : 0])).toEqual([
      ['720p', 'encode', 2800],
      ['480p', 'encode', 1400],
    ]);
  });

  test('passthrough copies it as it is (the session warns)', () => {
    const plan = planLadder(
      { video: { codec: 'h264', width: 1920, height: 1080, codecString: 'avc1.6e0028' } },
      { ...opts, profile: { kind: 'passthrough', rungs: [], sourceRung: true } },
    );
    expect(plan.video.map((v) => v.mode)).toEqual(['copy']);
  });
});
