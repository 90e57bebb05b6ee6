import path from 'node:path';
import { parseMediaPlaylist, type MediaPlaylist } from '../../scripts/lib/media-playlist';

export interface Variant {
  uri: string;
  attributes: Record<string, string>;
}

export interface Master {
  text: string;
  variants: Variant[];
  audio: Array<{ uri: string; groupId: string }>;
}

export function parseAttributes(list: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) attributes[match[1]!] = match[2]!.replace(/^"|"$/g, '');
  return attributes;
}

export function parseMaster(text: string): Master {
  const lines = text.split('\n');
  const master: Master = { text, variants: [], audio: [] };
  lines.forEach((line, i) => {
    if (line.startsWith('#EXT-X-STREAM-INF:')) master.variants.push({ attributes: parseAttributes(line.slice(18)), uri: lines[i + 1]! });
    if (line.startsWith('#EXT-X-MEDIA:')) {
      const attributes = parseAttributes(line.slice(13));
      master.audio.push({ uri: attributes.URI!, groupId: attributes['GROUP-ID']! });
    }
  });
  return master;
}

/** Fetches and parses HLS over HTTP, resolving relative URIs like a player does. */
export class HlsClient {
  constructor(readonly baseUrl: string) {}

  async text(url: string): Promise<{ status: number; text: string; headers: Headers }> {
    const response = await fetch(url);
    return { status: response.status, text: await response.text(), headers: response.headers };
  }

  async master(playbackId: string): Promise<Master | undefined> {
    const response = await this.text(this.masterUrl(playbackId));
    return response.status === 200 ? parseMaster(response.text) : undefined;
  }

  masterUrl(playbackId: string): string {
    return `${this.baseUrl}/hls/${playbackId}/master.m3u8`;
  }

  resolve(from: string, uri: string): string {
    return new URL(uri, from).toString();
  }

  async media(url: string): Promise<MediaPlaylist> {
    const response = await this.text(url);
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
    return parseMediaPlaylist(response.text);
  }
}

/** The file behind an /hls/ URL of an origin. */
export function fileOf(mediaDir: string, url: string): string {
  const { pathname } = new URL(url);
  return path.join(mediaDir, 'live', ...pathname.replace(/^\/hls\//, '').split('/'));
}

/**
 * The input ffmpeg and ffprobe read a CMAF segment (or part) of a playlist from: its init segment
 * (the EXT-X-MAP in effect) followed by it, through ffmpeg's concat protocol.
 */
export function cmafInput(mediaDir: string, playlistUrl: string, segment: { uri: string; map?: string }): string {
  if (!segment.map) throw new Error(`${segment.uri} has no EXT-X-MAP`);
  return `concat:${fileOf(mediaDir, new URL(segment.map, playlistUrl).toString())}|${fileOf(mediaDir, new URL(segment.uri, playlistUrl).toString())}`;
}
