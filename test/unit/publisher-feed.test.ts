import type { MediaTag } from '../../src/ingest/media';
import type { Publisher } from '../../src/ingest/publisher';
import { PublisherFeed } from '../../src/live/publisher-feed';

const publisher: Publisher = { id: 'p', clientAddress: '127.0.0.1', connectedAt: 0, bytesIn: 0, lastDataAt: 0, listen: () => undefined, disconnect: () => undefined };
const bytes = Buffer.alloc(0);
const video = (timestamp: number, keyframe = false): MediaTag => ({ kind: 'video', codec: 'h264', keyframe, timestamp, bytes, data: bytes, compositionTime: 0 });
const audio = (timestamp: number): MediaTag => ({ kind: 'audio', codec: 'aac', timestamp, bytes, data: bytes });

describe('PublisherFeed.nearKeyframe: which tags a copying ffmpeg gets unbatched', () => {
  test('the keyframe and the tags of the window after it, not the rest of the GOP', () => {
    const feed = new PublisherFeed(publisher);
    const seen = (tag: MediaTag) => {
      feed.observe(tag);
      return feed.nearKeyframe(tag, 200);
    };
    // Before any keyframe nothing is near one.
    expect(seen(audio(0))).toBe(false);
    expect(seen(video(2000, true))).toBe(true);
    expect(seen(audio(2021))).toBe(true);
    expect(seen(video(2033))).toBe(true);
    expect(seen(audio(2199))).toBe(true);
    expect(seen(audio(2200))).toBe(false);
    expect(seen(video(3967))).toBe(false);
    expect(seen(video(4000, true))).toBe(true);
    expect(seen({ kind: 'metadata', metadata: {}, timestamp: 4000, bytes })).toBe(false);
  });
});
