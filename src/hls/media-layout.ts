import path from 'node:path';
import { ID_PATTERN, PLAYBACK_ID_PATTERN } from '../streams/keys';

/**
 * Where HLS files live. Everything on disk is addressed by the public playback id; each publish
 * session writes into its own folder, so segment URLs are never reused by a later session.
 *
 *   live/<playbackId>/master.m3u8                      the stream's master: points into the current session
 *   live/<playbackId>/poster.jpg
 *   live/<playbackId>/sessions/<sessionId>/master.m3u8 recorded sessions: the recording's master
 *   live/<playbackId>/sessions/<sessionId>/.ffmpeg.<rendition>.m3u8  ffmpeg's own playlists, never served
 *   live/<playbackId>/sessions/<sessionId>/<rendition>/index.m3u8      the live window
 *   live/<playbackId>/sessions/<sessionId>/<rendition>/recording.m3u8  recorded sessions: every segment
 *   live/<playbackId>/sessions/<sessionId>/<rendition>/seg_N.ts
 */
export class MediaLayout {
  readonly liveRoot: string;

  constructor(readonly mediaDir: string) {
    this.liveRoot = path.join(mediaDir, 'live');
  }

  streamDir(playbackId: string): string {
    if (!PLAYBACK_ID_PATTERN.test(playbackId)) throw new Error('not a playback id');
    // Not path.join: every HLS request asks for this, joining normalised the whole path each time
    // (docs/benchmarks.md, serving), and a playback id is a plain name.
    return `${this.liveRoot}${path.sep}${playbackId}`;
  }

  streamMaster(playbackId: string): string {
    return path.join(this.streamDir(playbackId), 'master.m3u8');
  }

  poster(playbackId: string): string {
    return path.join(this.streamDir(playbackId), 'poster.jpg');
  }

  sessionsDir(playbackId: string): string {
    return path.join(this.streamDir(playbackId), 'sessions');
  }

  sessionDir(playbackId: string, sessionId: string): string {
    if (!ID_PATTERN.test(sessionId)) throw new Error('not a session id');
    return path.join(this.sessionsDir(playbackId), sessionId);
  }

  renditionDir(playbackId: string, sessionId: string, rendition: string): string {
    return path.join(this.sessionDir(playbackId, sessionId), rendition);
  }
}

/** The stream master refers to its session's playlists with this prefix. */
export function sessionUriPrefix(sessionId: string): string {
  return `sessions/${sessionId}/`;
}

export const LIVE_PLAYLIST = 'index.m3u8';
export const RECORDING_PLAYLIST = 'recording.m3u8';

/**
 * ffmpeg's own playlist of a rendition (`%v` for ffmpeg to fill in). It sits beside the rendition
 * folders, not in them: the collector watches the session folder for it, and a watch on the
 * rendition folder also woke the process for every write ffmpeg makes to a segment.
 */
export function ffmpegPlaylistName(rendition: string): string {
  return `.ffmpeg.${rendition}.m3u8`;
}
