import { RecoveryPolicy } from '../../player/src/recovery';

describe('player error recovery (hls.js documented escalation)', () => {
  let now = 0;
  const policy = () => {
    now = 10_000;
    return new RecoveryPolicy(() => now);
  };

  test('media errors: recover, then swap the audio codec and recover, then start over', () => {
    const recovery = policy();
    expect(recovery.decide('media')).toBe('recover-media');
    now += 1000;
    expect(recovery.decide('media')).toBe('swap-audio-codec');
    now += 1000;
    expect(recovery.decide('media')).toBe('restart');
  });

  test('media errors far apart are each recovered plainly', () => {
    const recovery = policy();
    expect(recovery.decide('media')).toBe('recover-media');
    now += 5000;
    expect(recovery.decide('media')).toBe('recover-media');
  });

  test('network errors: a few reloads with growing pauses, then start over; progress resets the count', () => {
    const recovery = policy();
    const delays: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      expect(recovery.decide('network')).toBe('reload');
      delays.push(recovery.reloadDelayMs());
    }
    expect(delays).toEqual([1000, 2000, 4000]);
    expect(recovery.decide('network')).toBe('restart');
    recovery.progressed();
    expect(recovery.decide('network')).toBe('reload');
    expect(recovery.decide('media')).toBe('recover-media');
  });

  test('a manifest that cannot be loaded, or any other fatal error, starts over at once', () => {
    const recovery = policy();
    expect(recovery.decide('manifest')).toBe('restart');
    expect(recovery.decide('other')).toBe('restart');
  });
});
