import { dropUnfilledSkips, type DeltaDetails } from '../../player/src/delta-update';

describe('the player closes the slots a delta update left unfilled (hls.js switched rendition meanwhile)', () => {
  const fragment = (sn: number) => ({ sn, start: (sn - 1) * 2 });

  test('the skipped segments hls.js never filled go, in place: what its controllers hold starts at the first listed segment', () => {
    const fragments: DeltaDetails['fragments'] = [null, null, null, fragment(4), fragment(5), fragment(6)];
    const details = { fragments, startSN: 1 };
    expect(dropUnfilledSkips(details)).toBe(true);
    expect(details.fragments).toBe(fragments);
    expect(details).toEqual({ fragments: [fragment(4), fragment(5), fragment(6)], startSN: 4 });
  });

  test('those it filled from the playlist it had stay, if the segments left follow one another', () => {
    const front = { fragments: [undefined, fragment(2), fragment(3), fragment(4)], startSN: 1 };
    expect(dropUnfilledSkips(front)).toBe(true);
    expect(front).toEqual({ fragments: [fragment(2), fragment(3), fragment(4)], startSN: 2 });
    const between = { fragments: [fragment(1), null, fragment(3), fragment(4)], startSN: 1 };
    expect(dropUnfilledSkips(between)).toBe(true);
    expect(between).toEqual({ fragments: [fragment(3), fragment(4)], startSN: 3 });
  });

  test('a merged update, or a whole playlist, is left alone', () => {
    const details = { fragments: [fragment(7), fragment(8)], startSN: 7 };
    expect(dropUnfilledSkips(details)).toBe(false);
    expect(details).toEqual({ fragments: [fragment(7), fragment(8)], startSN: 7 });
  });

  test('an update with nothing but empty slots is left as it is: there is no segment to start from', () => {
    const details = { fragments: [null, null], startSN: 3 };
    expect(dropUnfilledSkips(details)).toBe(false);
    expect(details).toEqual({ fragments: [null, null], startSN: 3 });
  });
});
