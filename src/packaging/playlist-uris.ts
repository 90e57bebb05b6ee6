const URI_ATTRIBUTE = /URI="([^"]*)"/g;

/** Rewrites every URI of a playlist: the URI lines, and URI="…" attributes of tags (EXT-X-MEDIA and the like). */
export function mapPlaylistUris(text: string, map: (uri: string) => string): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('#')) return line.replace(URI_ATTRIBUTE, (_match, uri: string) => `URI="${map(uri)}"`);
      return line.trim() === '' ? line : map(line.trim());
    })
    .join('\n');
}

/** Every URI a playlist names, in order. */
export function playlistUris(text: string): string[] {
  const uris: string[] = [];
  mapPlaylistUris(text, (uri) => {
    uris.push(uri);
    return uri;
  });
  return uris;
}
