import fs from 'node:fs';
import type { StreamOutput } from './stream-output';
import { lastSequence } from './media-playlist';

export interface SegmentProgress {
  rendition: string;
  /** Media sequence number of the newest segment. */
  sequence: number;
  segmentCount: number;
}

/**
 * Follows the media playlists that ffmpeg rewrites after each segment: inotify for promptness, a
 * slow poll in case an event is missed (ffmpeg renames over the file, which some watchers drop).
 */
export class PlaylistWatcher {
  private readonly watchers: fs.FSWatcher[] = [];
  private readonly latest = new Map<string, number>();
  private poll: NodeJS.Timeout | undefined;
  private reading = new Set<string>();
  private stopped = false;

  constructor(
    private readonly output: StreamOutput,
    private readonly renditions: readonly string[],
    private readonly onSegment: (progress: SegmentProgress) => void,
    private readonly onError: (error: unknown) => void,
    private readonly pollMs = 1000,
  ) {}

  start(): void {
    for (const rendition of this.renditions) {
      try {
        const watcher = fs.watch(this.output.renditionDir(rendition), (_event, filename) => {
          if (filename === 'index.m3u8') this.check(rendition);
        });
        watcher.on('error', (error) => this.onError(error));
        this.watchers.push(watcher);
      } catch (error) {
        this.onError(error);
      }
    }
    this.poll = setInterval(() => this.renditions.forEach((rendition) => this.check(rendition)), this.pollMs);
    this.poll.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    for (const watcher of this.watchers) watcher.close();
    this.watchers.length = 0;
  }

  /** Renditions that have produced at least one segment since the watcher started. */
  get renditionsWithSegments(): number {
    return this.latest.size;
  }

  private check(rendition: string): void {
    if (this.stopped || this.reading.has(rendition)) return;
    this.reading.add(rendition);
    this.output
      .readPlaylist(rendition)
      .then((playlist) => {
        if (this.stopped || !playlist) return;
        const sequence = lastSequence(playlist);
        if (sequence === undefined || sequence === this.latest.get(rendition)) return;
        this.latest.set(rendition, sequence);
        this.onSegment({ rendition, sequence, segmentCount: playlist.segments.length });
      })
      .catch((error: unknown) => this.onError(error))
      .finally(() => this.reading.delete(rendition));
  }
}
