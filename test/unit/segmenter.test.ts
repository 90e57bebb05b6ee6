import { Segmenter, type ClosedPart, type SegmenterOptions } from '../../src/packaging/segmenter';
import type { Sample } from '../../src/packaging/track';

const TS = 90_000;
const ms = (value: number) => Math.round((value * TS) / 1000);

function record(options: Partial<SegmenterOptions> = {}) {
  const events: Array<{ kind: 'start'; dts: number } | { kind: 'part'; part: ClosedPart } | { kind: 'end'; duration: number }> = [];
  const segmenter = new Segmenter(
    { timescale: TS, partTicks: ms(334), segmentTicks: 2 * TS, cut: 'keyframes', defaultDuration: ms(33), ...options },
    {
      segmentStart: (dts) => events.push({ kind: 'start', dts }),
      part: (part) => events.push({ kind: 'part', part }),
      segmentEnd: (duration) => events.push({ kind: 'end', duration }),
    },
  );
  return { segmenter, events };
}

/** 30 fps video, FLV-style millisecond timestamps, a keyframe every `gop` frames. */
function video(frames: number, gop = 60, startMs = 0): Sample[] {
  return Array.from({ length: frames }, (_, i) => ({
    dts: ms(startMs + Math.round((i * 1000) / 30)),
    compositionOffset: 0,
    keyframe: i % gop === 0,
    data: Buffer.from([i & 0xff]),
  }));
}

describe('Segmenter', () => {
  test('30 fps, 2 s GOP: 2 s segments of six parts, none longer than the part target, each segment starting with an independent part', () => {
    const { segmenter, events } = record();
    for (const sample of video(300)) segmenter.push(sample);
    segmenter.end();
    const parts = events.flatMap((e) => (e.kind === 'part' ? [e.part] : []));
    const ends = events.flatMap((e) => (e.kind === 'end' ? [e.duration] : []));
    expect(ends.map((d) => d / TS)).toEqual([2, 2, 2, 2, expect.closeTo(2, 1)]);
    expect(parts.every((part) => part.duration <= ms(334))).toBe(true);
    expect(parts.filter((part) => part.first).every((part) => part.independent && part.samples[0]!.keyframe)).toBe(true);
    expect(parts.slice(0, 6).map((part) => part.samples.length)).toEqual([10, 10, 10, 10, 10, 10]);
    // Every sample is placed once, in order, with its duration.
    const placed = parts.flatMap((part) => part.samples.map((s) => s.data[0]));
    expect(placed).toEqual(video(300).map((s) => s.data[0]));
    // A part's duration is the sum of its samples'; decode times follow on.
    for (const part of parts) expect(part.samples.reduce((sum, s) => sum + s.duration, 0)).toBe(part.duration);
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.baseDts).toBe(parts[i - 1]!.baseDts + parts[i - 1]!.duration);
  });

  test('the segment start is told when the keyframe arrives, before its part is closed', () => {
    const { segmenter, events } = record();
    const samples = video(62);
    for (const sample of samples) segmenter.push(sample);
    // Frame 60 (the keyframe at 2 s) has arrived and frame 61 after it: segment 2 has begun.
    expect(events.filter((e) => e.kind === 'start').map((e) => (e as { dts: number }).dts)).toEqual([0, samples[60]!.dts]);
    expect(events.filter((e) => e.kind === 'end')).toHaveLength(1);
  });

  test('keyframes more often than the segment duration: cut at the first one past it; less often: segments as long as the GOP', () => {
    const often = record();
    for (const sample of video(240, 15)) often.segmenter.push(sample);
    often.segmenter.end();
    expect(often.events.flatMap((e) => (e.kind === 'end' ? [Math.round(e.duration / ms(1))] : [])).slice(0, 3)).toEqual([2000, 2000, 2000]);
    const rare = record();
    for (const sample of video(360, 120)) rare.segmenter.push(sample);
    rare.segmenter.end();
    expect(rare.events.flatMap((e) => (e.kind === 'end' ? [Math.round(e.duration / ms(1))] : [])).slice(0, 2)).toEqual([4000, 4000]);
  });

  test('follow: audio cuts at the frame nearest each cut it is told of, and parts never exceed the target', () => {
    const { segmenter, events } = record({ timescale: 48_000, partTicks: Math.floor(0.334 * 48_000), segmentTicks: 2 * 48_000, cut: 'follow', defaultDuration: 1024 });
    segmenter.follow(2 * 48_000);
    segmenter.follow(4 * 48_000);
    for (let i = 0; i < 300; i++) segmenter.push({ dts: i * 1024, compositionOffset: 0, keyframe: true, data: Buffer.alloc(1) });
    segmenter.end();
    const starts = events.flatMap((e) => (e.kind === 'start' ? [e.dts] : []));
    // 2 s is 93.75 frames: frame 94 starts nearest; 4 s is 187.5: frame 187's middle is the cut, and it starts there
    expect(starts).toEqual([0, 94 * 1024, 187 * 1024]);
    const parts = events.flatMap((e) => (e.kind === 'part' ? [e.part] : []));
    expect(parts.every((part) => part.duration <= Math.floor(0.334 * 48_000) && part.independent)).toBe(true);
  });

  test('timestamps that step back are moved on; a gap is not allowed to make a part longer than the target', () => {
    const { segmenter, events } = record();
    const samples = video(30);
    samples[5] = { ...samples[5]!, dts: samples[4]!.dts - 100 };
    samples.push({ dts: samples[29]!.dts + ms(5000), compositionOffset: 0, keyframe: false, data: Buffer.alloc(1) });
    for (const sample of samples) segmenter.push(sample);
    segmenter.end();
    const parts = events.flatMap((e) => (e.kind === 'part' ? [e.part] : []));
    expect(parts.every((part) => part.duration <= ms(334) && part.samples.every((s) => s.duration > 0))).toBe(true);
  });
});
