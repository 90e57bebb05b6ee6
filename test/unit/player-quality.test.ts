import { sameQuality } from '../../player/src/engine';

describe("the player keeps a viewer's pick of a rendition across a new list of renditions", () => {
  const ladder = [
    { index: 0, height: 720, bitrate: 2_800_000 },
    { index: 1, height: 480, bitrate: 1_400_000 },
    { index: 2, height: 360, bitrate: 800_000 },
  ];

  test('the same height, wherever it is in the new list', () => {
    expect(sameQuality([...ladder].reverse(), { height: 480, bitrate: 1_400_000 })).toEqual(ladder[1]);
  });

  test('of two renditions of that height, the nearer bitrate', () => {
    const two = [...ladder, { index: 3, height: 360, bitrate: 400_000 }];
    expect(sameQuality(two, { height: 360, bitrate: 450_000 })?.index).toBe(3);
    expect(sameQuality(two, { height: 360, bitrate: 700_000 })?.index).toBe(2);
  });

  test('none when the stream no longer has that height: the player is back on Auto', () => {
    expect(sameQuality(ladder, { height: 1080, bitrate: 5_000_000 })).toBeUndefined();
    expect(sameQuality([], { height: 360, bitrate: 800_000 })).toBeUndefined();
  });
});
