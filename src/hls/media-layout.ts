import path from 'node:path';
import { PLAYBACK_ID_PATTERN } from '../streams/keys';

/**
 * Where HLS files live: MEDIA_DIR/live/<playbackId>/master.m3u8, <rendition>/index.m3u8,
 * <rendition>/seg_N.ts. Everything on disk is addressed by the public playback id only.
 */
export class MediaLayout {
  constructor(readonly mediaDir: string) {}

  get liveRoot(): string {
    return path.join(this.mediaDir, 'live');
  }

  streamDir(playbackId: string): string {
    if (!PLAYBACK_ID_PATTERN.test(playbackId)) throw new Error('not a playback id');
    return path.join(this.liveRoot, playbackId);
  }

  masterPlaylist(playbackId: string): string {
    return path.join(this.streamDir(playbackId), 'master.m3u8');
  }

  renditionDir(playbackId: string, rendition: string): string {
    return path.join(this.streamDir(playbackId), rendition);
  }

  mediaPlaylist(playbackId: string, rendition: string): string {
    return path.join(this.renditionDir(playbackId, rendition), 'index.m3u8');
  }
}
