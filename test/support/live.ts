import type { TestPatternOptions } from '../../scripts/lib/test-pattern';
import { createStream, type TestOrigin } from './origin';
import { startPublisher } from './processes';
import { waitFor } from './wait';

export interface Live {
  stream: { id: string; playbackId: string; streamKey: string };
  masterUrl: string;
  /** Each rendition's live playlist URL, by name. */
  urls: Map<string, string>;
}

/** A stream with these settings, an ffmpeg test pattern publishing to it, and its playlists once its master is there. */
export async function goLive(origin: TestOrigin, settings: Record<string, unknown>, publisher: Omit<TestPatternOptions, 'url'>): Promise<Live> {
  const stream = await createStream(origin, 'Live', { reconnectWindowSeconds: 10, ...settings });
  startPublisher({ url: origin.rtmpUrl(stream.streamKey), ...publisher });
  const masterUrl = `${origin.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`;
  const master = await waitFor(
    async () => {
      const response = await fetch(masterUrl);
      return response.status === 200 ? response.text() : undefined;
    },
    { what: 'the master', timeoutMs: 20_000 },
  );
  const urls = new Map<string, string>();
  for (const uri of [...master.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!).concat(master.split('\n').filter((l) => l && !l.startsWith('#')))) {
    urls.set(uri.split('/').at(-2)!, new URL(uri, masterUrl).toString());
  }
  return { stream, masterUrl, urls };
}
