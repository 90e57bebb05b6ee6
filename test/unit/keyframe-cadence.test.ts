import { KeyframeCadence } from '../../src/ingest/keyframe-cadence';
import type { MediaTag } from '../../src/ingest/media';

const bytes = Buffer.alloc(0);
const video = (timestamp: number, keyframe = false): MediaTag => ({ kind: 'video', codec: 'h264', keyframe, timestamp, bytes, data: bytes, compositionTime: 0 });
const audio = (timestamp: number): MediaTag => ({ kind: 'audio', codec: 'aac', timestamp, bytes, data: bytes });

describe('KeyframeCadence: media may wait only in the middle of a GOP', () => {
  test('not before the interval is known; then after the keyframe window and before the next keyframe is due', () => {
    const cadence = new KeyframeCadence();
    const at = (tag: MediaTag) => {
      cadence.observe(tag);
      return cadence.midGop(250, 150);
    };
    expect(at(video(0, true))).toBe(false);
    expect(at(audio(1000))).toBe(false); // one keyframe: the interval is unknown
    expect(at(video(2000, true))).toBe(false);
    expect(at(audio(2249))).toBe(false);
    expect(at(audio(2250))).toBe(true);
    expect(at(video(3849))).toBe(true);
    expect(at(audio(3850))).toBe(false); // the next keyframe is due within 150 ms
    expect(at(video(4100))).toBe(false); // late keyframe: still read as it comes
    expect(at(video(4200, true))).toBe(false);
    expect(at({ kind: 'metadata', metadata: {}, timestamp: 9000, bytes })).toBe(false);
    expect(at(audio(4500))).toBe(true);
  });

  test('the interval is the media time between the last two keyframes; tags near the latest keyframe are told apart', () => {
    const cadence = new KeyframeCadence();
    cadence.observe(video(0, true));
    expect(cadence.intervalMs).toBeUndefined();
    cadence.observe(video(2000, true));
    cadence.observe(video(3000, true));
    expect(cadence.intervalMs).toBe(1000);
    expect(cadence.nearKeyframe(audio(3199), 200)).toBe(true);
    expect(cadence.nearKeyframe(audio(3200), 200)).toBe(false);
    expect(cadence.nearKeyframe({ kind: 'metadata', metadata: {}, timestamp: 3000, bytes }, 200)).toBe(false);
  });

  test('the sustained interval is the shorter of the last two: one long GOP does not make it long', () => {
    const cadence = new KeyframeCadence();
    cadence.observe(video(0, true));
    cadence.observe(video(3300, true));
    expect(cadence.sustainedIntervalMs).toBeUndefined();
    cadence.observe(video(5300, true));
    expect(cadence.sustainedIntervalMs).toBe(2000);
    cadence.observe(video(9300, true));
    expect(cadence.sustainedIntervalMs).toBe(2000);
    cadence.observe(video(13300, true));
    expect(cadence.sustainedIntervalMs).toBe(4000);
  });
});
