import { mapPlaylistUris } from '../packaging/playlist-uris';
import { TOKEN_PARAM } from './playback-access';

/**
 * A playlist with the token added to every URI it names: media playlists, parts, segments, init
 * segments, preload hints and rendition reports. A player resolves relative URIs without the
 * playlist's query string, so this is how any player (Safari's included, which lets no page code
 * touch its requests) carries the token from the master URL alone.
 */
export function withPlaybackToken(playlist: string, token: string): string {
  return mapPlaylistUris(playlist, (uri) => withTokenParam(uri, token));
}

/** A URL (absolute or relative) with the token as its `token` parameter. */
export function withTokenParam(url: string, token: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${TOKEN_PARAM}=${encodeURIComponent(token)}`;
}
