import { h264Level, planLadder, type SourceInfo } from '../../src/transcode/ladder';

const rungs = [
  { name: '720p', height: 720, videoBitrateKbps: 2800 },
  { name: '480p', height: 480, videoBitrateKbps: 1400 },
  { name: '360p', height: 360, videoBitrateKbps: 800 },
];
const options = { rungs, audioBitrateKbps: 128 };
const h264 = (width: number, height: number, frameRate?: number): SourceInfo['video'] => ({
  codec: 'h264',
  width,
  height,
  ...(frameRate !== undefined && { frameRate }),
});
const aac: SourceInfo['audio'] = { codec: 'aac', codecString: 'mp4a.40.2' };

describe('ladder planning', () => {
  test('1080p source: the three default rungs, 16:9 widths', () => {
    const plan = planLadder({ video: h264(1920, 1080, 30), audio: aac }, options);
    expect(plan.video.map((r) => [r.name, r.width, r.height])).toEqual([
      ['720p', 1280, 720],
      ['480p', 854, 480],
      ['360p', 640, 360],
    ]);
    expect(plan.audio).toEqual({ name: 'audio', bitrateKbps: 128, channels: 2, codecString: 'mp4a.40.2' });
  });

  test('720p source keeps 720p; rungs never go above the source', () => {
    expect(planLadder({ video: h264(1280, 720) }, options).video.map((r) => r.height)).toEqual([720, 480, 360]);
    expect(planLadder({ video: h264(854, 480) }, options).video.map((r) => r.height)).toEqual([480, 360]);
    expect(planLadder({ video: h264(720, 404) }, options).video.map((r) => r.height)).toEqual([360]);
  });

  test('a source below every rung gets one rendition at its own (even) height', () => {
    const plan = planLadder({ video: h264(426, 241) }, options);
    expect(plan.video).toHaveLength(1);
    expect(plan.video[0]).toMatchObject({ name: '240p', width: 424, height: 240, videoBitrateKbps: 800 });
  });

  test('widths follow the source aspect ratio and stay even', () => {
    const portrait = planLadder({ video: h264(1080, 1920) }, options);
    expect(portrait.video.map((r) => [r.width, r.height])).toEqual([
      [406, 720],
      [270, 480],
      [202, 360],
    ]);
    const fourThree = planLadder({ video: h264(1440, 1080) }, options);
    expect(fourThree.video[0]).toMatchObject({ width: 960, height: 720 });
  });

  test('audio-only and video-only sources', () => {
    expect(planLadder({ audio: aac }, options)).toMatchObject({ video: [], audio: { name: 'audio' } });
    expect(planLadder({ video: h264(1280, 720) }, options).audio).toBeUndefined();
  });

  test('bitrates: maxrate 1.1x the target unless configured, buffer twice the maxrate', () => {
    const plan = planLadder({ video: h264(1280, 720) }, { rungs: [{ name: 'x', height: 720, videoBitrateKbps: 3000, maxrateKbps: 3500 }, { name: 'y', height: 360, videoBitrateKbps: 800 }], audioBitrateKbps: 96 });
    expect(plan.video.map((r) => [r.videoBitrateKbps, r.maxrateKbps, r.bufsizeKbps])).toEqual([
      [3000, 3500, 7000],
      [800, 880, 1760],
    ]);
  });

  test('a frame-rate cap applies only when the source is faster', () => {
    const capped = [{ name: '720p', height: 720, videoBitrateKbps: 2800, maxFps: 30 }];
    expect(planLadder({ video: h264(1280, 720, 60) }, { rungs: capped, audioBitrateKbps: 128 }).video[0]?.frameRate).toBe(30);
    expect(planLadder({ video: h264(1280, 720, 25) }, { rungs: capped, audioBitrateKbps: 128 }).video[0]?.frameRate).toBeUndefined();
  });

  test('profiles, levels and codec strings', () => {
    const plan = planLadder({ video: h264(1280, 720, 30) }, options);
    expect(plan.video.map((r) => [r.profile, r.level, r.codecString])).toEqual([
      ['high', '3.1', 'avc1.64001f'],
      ['high', '3.1', 'avc1.64001f'],
      ['main', '3.0', 'avc1.4d401e'],
    ]);
    expect(planLadder({ video: h264(1280, 720, 60) }, options).video[0]?.level).toBe('3.2');
    // an unknown frame rate is sized for 60 fps
    expect(planLadder({ video: h264(1280, 720) }, options).video[0]?.level).toBe('3.2');
  });

  test('H.264 level table', () => {
    expect(h264Level(1920, 1080, 30, 6000, 'high')).toBe('4.0');
    expect(h264Level(1920, 1080, 60, 6000, 'high')).toBe('4.2');
    expect(h264Level(1920, 1080, 30, 30000, 'high')).toBe('4.1');
    expect(h264Level(3840, 2160, 30, 20000, 'high')).toBe('5.1');
    expect(h264Level(640, 360, 30, 880, 'main')).toBe('3.0');
  });
});
