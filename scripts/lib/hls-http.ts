// Reading HLS over HTTP as a player would, for the soak and the benchmarks: an error answer is
// "not there (yet)", never content.
import { parseMediaPlaylist, type MediaPlaylist } from './media-playlist';

export async function getText(url: string): Promise<string | undefined> {
  try {
    const response = await fetch(url);
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    return await response.text();
  } catch {
    return undefined;
  }
}

export async function getMedia(url: string): Promise<MediaPlaylist | undefined> {
  const text = await getText(url);
  return text === undefined ? undefined : parseMediaPlaylist(text);
}

/** URIs a master playlist names (variants and audio renditions), resolved. */
export function masterUris(masterUrl: string, text: string): string[] {
  const uris: string[] = [];
  for (const line of text.split('\n')) {
    const audio = /URI="([^"]+)"/.exec(line);
    if (line.startsWith('#EXT-X-MEDIA:') && audio) uris.push(new URL(audio[1]!, masterUrl).toString());
    else if (line.trim() && !line.startsWith('#')) uris.push(new URL(line.trim(), masterUrl).toString());
  }
  return uris;
}

/** Polls until `ready` returns a value or the time is up. */
export async function poll<T>(ready: () => Promise<T | undefined>, timeoutMs: number, everyMs = 20): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await ready();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return undefined;
}
