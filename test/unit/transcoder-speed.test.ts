import { SpeedWindow } from '../../src/transcode/speed-window';
import { parseProgress } from '../../src/transcode/transcoder';
import { economyPlan, planLadder } from '../../src/transcode/ladder';

describe("a transcoder's speed", () => {
  test("ffmpeg's progress line: its cumulative speed, fps and output time", () => {
    expect(parseProgress('frame=  901 fps= 30 q=23.0 size=N/A time=00:01:02.50 bitrate=N/A speed=0.998x')).toEqual({ speed: 0.998, fps: 30, mediaSeconds: 62.5 });
    expect(parseProgress('[libx264 @ 0x55] frame I:1')).toBeUndefined();
  });

  test('over the last seconds, not since the start: a long healthy start does not hide a transcoder that has just fallen behind', () => {
    const window = new SpeedWindow(10_000);
    let media = 0;
    for (let at = 0; at <= 300_000; at += 500) window.add(at, (media += 0.5));
    expect(window.speed).toBeCloseTo(1, 5);
    for (let at = 300_500; at <= 310_000; at += 500) window.add(at, (media += 0.3));
    expect(window.speed).toBeCloseTo(0.6, 1);
  });

  test('unknown until the samples span most of the window', () => {
    const window = new SpeedWindow(10_000);
    window.add(0, 0);
    window.add(5000, 5);
    expect(window.speed).toBeUndefined();
    window.add(8000, 8);
    expect(window.speed).toBe(1);
  });

  test('economy: the same renditions, encoded rungs held to 30 fps; copied ones untouched', () => {
    const rungs = [
      { name: '720p', height: 720, videoBitrateKbps: 2800 },
      { name: '360p', height: 360, videoBitrateKbps: 800, maxFps: 24 },
    ];
    const plan = planLadder(
      { video: { codec: 'h264', width: 1920, height: 1080, frameRate: 60 } },
      { profile: { kind: 'ladder', rungs, sourceRung: true }, audioBitrateKbps: 128 },
    );
    const cheap = economyPlan(plan);
    expect(cheap.video.map((v) => [v.name, v.mode, v.mode === 'encode' ? v.frameRate : undefined])).toEqual([
      ['source', 'copy', undefined],
      ['720p', 'encode', 30],
      ['360p', 'encode', 24],
    ]);
    expect(cheap.video.map((v) => v.codecString)).toEqual(plan.video.map((v) => v.codecString));
  });
});
