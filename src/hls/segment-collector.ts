import fs from 'node:fs';
import path from 'node:path';
import { writeAtomicSync } from './atomic-write';
import { ffmpegPlaylistName, LIVE_PLAYLIST, RECORDING_PLAYLIST } from './media-layout';
import { parseMediaPlaylist, renderMediaPlaylist, segmentLines, type PlaylistSegment } from './media-playlist';

export interface CollectorOptions {
  sessionDir: string;
  renditions: readonly string[];
  /** Segments in the live window. */
  listSize: number;
  segmentSeconds: number;
  /** Keep every segment and list it in recording.m3u8. */
  record: boolean;
  now: () => number;
  onSegment: (rendition: string, segment: PlaylistSegment) => void;
  onError: (error: unknown) => void;
  pollMs?: number;
}

interface RenditionState {
  /** The live window plus as many older segments again, still on disk for late readers. */
  segments: PlaylistSegment[];
  discontinuitySequence: number;
  /** Highest sequence already counted as out of the window. */
  countedUpTo: number;
  lastSequence: number;
  pendingDiscontinuity: boolean;
  maxDuration: number;
  recordingStarted: boolean;
  /** Seconds of media this run has put in segments so far. */
  runElapsed: number;
  /** When the playlist was last read (options.now()). */
  readAt: number;
  chain: Promise<void>;
}

/**
 * Turns each run's segments into the session's own media playlists. An ffmpeg run writes a
 * playlist per rendition (`ffmpegPlaylistName`) with segment numbers that continue the previous
 * run's, and this collector follows it; the remuxer hands each segment over (add()). It publishes `index.m3u8` (the live window,
 * with EXT-X-DISCONTINUITY where a run begins and a correct EXT-X-DISCONTINUITY-SEQUENCE),
 * appends to `recording.m3u8` when recording, deletes segments that left the window, and ends the
 * playlists when the session ends.
 *
 * Its file operations block the event loop: they touch a few hundred bytes of playlist in the page
 * cache, some tens of microseconds, where each trip through the thread pool woke a pool thread and
 * then the main thread (one ladder stream: ~30 and ~9 wake-ups a second; docs/decisions.md). nginx-rtmp
 * writes its playlists the same way.
 */
export class SegmentCollector {
  private readonly states = new Map<string, RenditionState>();
  private watcher: fs.FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private stopped = false;
  private runStartsAt: () => number | undefined = () => undefined;
  lastSegmentAt: number | undefined;

  constructor(private readonly options: CollectorOptions) {
    for (const rendition of options.renditions) {
      this.states.set(rendition, {
        segments: [],
        discontinuitySequence: 0,
        countedUpTo: -1,
        lastSequence: -1,
        pendingDiscontinuity: false,
        maxDuration: 0,
        recordingStarted: false,
        runElapsed: 0,
        readAt: -Infinity,
        chain: Promise.resolve(),
      });
    }
  }

  start(): void {
    const renditionOf = new Map(this.options.renditions.map((rendition) => [ffmpegPlaylistName(rendition), rendition]));
    try {
      this.watcher = fs.watch(this.options.sessionDir, (_event, filename) => {
        const rendition = filename === null ? undefined : renditionOf.get(filename);
        if (rendition !== undefined) void this.collect(rendition);
      });
      this.watcher.on('error', (error) => this.options.onError(error));
    } catch (error) {
      this.options.onError(error);
    }
    // In case the watcher misses a change: ffmpeg rewrites its playlist once per segment, so only a
    // rendition quiet for longer than that is read, not every rendition every second.
    this.poll = setInterval(() => {
      const quietSince = this.options.now() - this.options.segmentSeconds * 1000;
      for (const [rendition, state] of this.states) if (state.readAt <= quietSince) void this.collect(rendition);
    }, this.options.pollMs ?? 1000);
    this.poll.unref();
  }

  stopWatching(): void {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    this.watcher?.close();
    this.watcher = undefined;
  }

  /**
   * The next ffmpeg run's first segment is marked as a discontinuity. `mediaStartsAt`: when the
   * run's first frame was captured, on the publisher's clock (ms since the epoch), once known. Its
   * segments get their EXT-X-PROGRAM-DATE-TIME from it: ffmpeg's own dates are when its muxer
   * started, after probing its input, which is late by however far behind the publisher it began.
   */
  beginRun(mediaStartsAt: () => number | undefined = () => undefined): void {
    this.runStartsAt = mediaStartsAt;
    for (const state of this.states.values()) {
      state.pendingDiscontinuity = state.lastSequence >= 0;
      state.runElapsed = 0;
    }
  }

  /** Where the next run's segment numbers start, so that they continue this session's. */
  nextStartNumber(): number {
    return Math.max(-1, ...[...this.states.values()].map((s) => s.lastSequence)) + 1;
  }

  get renditionsWithSegments(): number {
    return [...this.states.values()].filter((s) => s.lastSequence >= 0).length;
  }

  /** The newest segment of a rendition, as a path. */
  newestSegment(rendition: string): string | undefined {
    const newest = this.states.get(rendition)?.segments.at(-1);
    return newest && path.join(this.dir(rendition), newest.uri);
  }

  /** Bitrate of a rendition over the segments still known, in kbit/s. */
  async measuredKbps(rendition: string): Promise<number | undefined> {
    const state = this.states.get(rendition);
    if (!state || state.segments.length === 0) return undefined;
    let bytes = 0;
    let seconds = 0;
    for (const segment of state.segments) {
      try {
        bytes += (await fs.promises.stat(path.join(this.dir(rendition), segment.uri))).size;
        seconds += segment.duration;
      } catch {
        // deleted meanwhile
      }
    }
    return seconds > 0 ? (bytes * 8) / seconds / 1000 : undefined;
  }

  collectAll(): Promise<void> {
    return Promise.all(this.options.renditions.map((rendition) => this.collect(rendition))).then(() => undefined);
  }

  /** After the last run: the window and the recording get EXT-X-ENDLIST. */
  async finish(): Promise<void> {
    this.stopWatching();
    await this.collectAll();
    for (const rendition of this.options.renditions) {
      const state = this.states.get(rendition)!;
      if (state.lastSequence < 0) continue;
      this.writeWindow(rendition, state, true);
      if (this.options.record) this.finishRecording(rendition);
    }
  }

  /**
   * A segment of the current run, handed over by a run that writes no playlist of its own (the
   * remuxer): the same as finding it in ffmpeg's playlist, without writing and reading one.
   */
  add(rendition: string, segment: Omit<PlaylistSegment, 'discontinuity'>): Promise<void> {
    return this.chained(rendition, (state) => this.admit(rendition, state, [{ ...segment, discontinuity: false }]));
  }

  private collect(rendition: string): Promise<void> {
    return this.chained(rendition, (state) => this.readNew(rendition, state));
  }

  /** Work on one rendition's playlists, in order, never two at once. */
  private chained(rendition: string, work: (state: RenditionState) => void): Promise<void> {
    const state = this.states.get(rendition);
    if (!state) return Promise.resolve();
    state.chain = state.chain.then(() => work(state)).catch((error: unknown) => this.options.onError(error));
    return state.chain;
  }

  private readNew(rendition: string, state: RenditionState): void {
    let text: string;
    state.readAt = this.options.now();
    try {
      text = fs.readFileSync(path.join(this.options.sessionDir, ffmpegPlaylistName(rendition)), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.admit(rendition, state, parseMediaPlaylist(text).segments);
  }

  /** Segments the current run has finished, from its playlist or handed over; those already known are skipped. */
  private admit(rendition: string, state: RenditionState, segments: PlaylistSegment[]): void {
    state.readAt = this.options.now();
    const fresh = segments.filter((segment) => segment.sequence > state.lastSequence);
    if (fresh.length === 0) return;
    for (const segment of fresh) {
      const added: PlaylistSegment = { ...segment, discontinuity: state.pendingDiscontinuity };
      const runStartsAt = this.runStartsAt();
      if (runStartsAt !== undefined) added.programDateTime = new Date(runStartsAt + state.runElapsed * 1000).toISOString();
      state.runElapsed += segment.duration;
      state.pendingDiscontinuity = false;
      state.segments.push(added);
      state.lastSequence = segment.sequence;
      state.maxDuration = Math.max(state.maxDuration, segment.duration);
      if (this.options.record) this.appendRecording(rendition, state, added);
      this.lastSegmentAt = this.options.now();
      this.options.onSegment(rendition, added);
    }
    this.dropOld(rendition, state);
    this.writeWindow(rendition, state, false);
  }

  private windowOf(state: RenditionState): PlaylistSegment[] {
    return state.segments.slice(-this.options.listSize);
  }

  private targetDuration(state: RenditionState): number {
    return Math.max(this.options.segmentSeconds, Math.round(state.maxDuration));
  }

  private writeWindow(rendition: string, state: RenditionState, endList: boolean): void {
    const window = this.windowOf(state);
    const first = window[0];
    if (!first) return;
    const text = renderMediaPlaylist({
      mediaSequence: first.sequence,
      discontinuitySequence: state.discontinuitySequence,
      targetDuration: this.targetDuration(state),
      segments: window,
      endList,
    });
    writeAtomicSync(path.join(this.dir(rendition), LIVE_PLAYLIST), text);
  }

  /**
   * Segments that left the window stay on disk for as long again (a player may still be reading
   * them), then go, unless the session is recorded.
   */
  private dropOld(rendition: string, state: RenditionState): void {
    const windowStart = this.windowOf(state)[0]?.sequence ?? 0;
    // EXT-X-DISCONTINUITY-SEQUENCE counts the discontinuities that have left the window's head.
    for (const segment of state.segments) {
      if (segment.sequence >= windowStart) break;
      if (segment.sequence > state.countedUpTo) {
        if (segment.discontinuity) state.discontinuitySequence += 1;
        state.countedUpTo = segment.sequence;
      }
    }
    const expired = state.segments.splice(0, Math.max(0, state.segments.length - this.options.listSize * 2));
    if (this.options.record) return;
    for (const segment of expired) fs.rmSync(path.join(this.dir(rendition), segment.uri), { force: true });
  }

  private appendRecording(rendition: string, state: RenditionState, segment: PlaylistSegment): void {
    const file = path.join(this.dir(rendition), RECORDING_PLAYLIST);
    if (!state.recordingStarted) {
      state.recordingStarted = true;
      const header = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${this.options.segmentSeconds * 2}`, '#EXT-X-PLAYLIST-TYPE:EVENT', `#EXT-X-MEDIA-SEQUENCE:${segment.sequence}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
      fs.writeFileSync(file, header.join('\n') + '\n');
    }
    fs.appendFileSync(file, segmentLines(segment).join('\n') + '\n');
  }

  /** The recording becomes a VOD playlist with the exact target duration. */
  private finishRecording(rendition: string): void {
    const file = path.join(this.dir(rendition), RECORDING_PLAYLIST);
    const recording = parseMediaPlaylist(fs.readFileSync(file, 'utf8'));
    const longest = Math.max(0, ...recording.segments.map((s) => s.duration));
    writeAtomicSync(
      file,
      renderMediaPlaylist({ ...recording, playlistType: 'VOD', endList: true, targetDuration: Math.max(this.options.segmentSeconds, Math.round(longest)) }),
    );
  }

  private dir(rendition: string): string {
    return path.join(this.options.sessionDir, rendition);
  }
}
