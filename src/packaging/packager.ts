// One live session's packaging: every rendition's samples, copied or encoded, become CMAF parts and
// segments on disk and in the catalog, with one continuous timeline across the session's runs.
import fs from 'node:fs';
import path from 'node:path';
import { writeAtomicSync } from './atomic-write';
import type { Catalog, LiveSessionInfo } from './catalog';
import { fragment, initSegment } from './fmp4';
import { initName, LIVE_PLAYLIST, RECORDING_PLAYLIST, segmentName, type MediaLayout } from './media-layout';
import { hasEndList, recordingEntry, recordingHeader, renderLivePlaylist, renderRecording, withGapVersion, type LatencyMode, type RecordedSegment } from './media-playlist';
import { Segmenter, type ClosedPart } from './segmenter';
import { keptSegments, type SegmentInfo, type TimelineEvent } from './timeline';
import { AAC_FRAME_SAMPLES, sameTrack, ticks, type Sample, type Track } from './track';

/** What copied and encoded runs feed: each rendition's track, then its samples, on the run's input timeline. */
export interface MediaSink {
  track(rendition: string, track: Track): void;
  sample(rendition: string, sample: Sample): void;
}

/** A run's feed into the packager; end() once the run has given everything it will. */
export interface RunPackaging extends MediaSink {
  /** The run's media begins at this input time (ms): its first keyframe, which every rendition starts from. */
  startsAt(inputMs: number): void;
  end(): void;
}

export interface PackagerOptions {
  playbackId: string;
  sessionId: string;
  layout: MediaLayout;
  /** Video renditions first; the first video rendition is the one the audio is cut with. */
  renditions: ReadonlyArray<{ name: string; kind: 'video' | 'audio' }>;
  mode: LatencyMode;
  partSeconds: number;
  segmentSeconds: number;
  listSize: number;
  record: boolean;
  catalog: Catalog;
  now: () => number;
  /**
   * A session another node began (and died or gave up): its sequence numbers go on from
   * `nextMsn`, after a discontinuity, `discontinuities` being the tags its playlists had so far.
   */
  continues?: { nextMsn: number; discontinuities: number };
  /** A rendition completed a segment: `msn`, with `discontinuities` tags in its playlist so far. */
  onSegment: (rendition: string, msn: number, discontinuities: number) => void;
  /**
   * A file of the current run could not be written (its folder removed, the disk full): the run
   * packages nothing more, and should be replaced by a new one.
   */
  onRunFailed: (error: unknown) => void;
}

interface RunState {
  number: number;
  /** The run's first sample's time on its input timeline (ms): session time `offsetMs` from then on. */
  inputStartMs?: number;
  offsetMs: number;
  /** When the frame at an input time was captured (publisher's clock, ms since the epoch). */
  capturedAt: (inputMs: number) => number;
  /** capturedAt(inputStartMs), once known. */
  startedAt: number;
  /** The video rendition the audio is cut with, if the run makes it (a publisher may send no video for a while). */
  reference: string | undefined;
  /** Audio held until the video it plays with has reached it, so that it is cut where the video is. */
  waitingAudio: Map<string, Sample[]>;
  referenceUpTo: number;
  ended: boolean;
}

interface RenditionState {
  name: string;
  kind: 'video' | 'audio';
  dir: string;
  track?: Track;
  init?: string;
  segmenter?: Segmenter;
  /** The next segment starts a new timeline (a new run, or new codec parameters). */
  discontinuity: boolean;
  /** Tags so far, the next segment's excluded. */
  discontinuities: number;
  nextMsn: number;
  msn: number;
  partIndex: number;
  sequence: number;
  segmentStart?: { discontinuity: boolean; programDateTime: string; init: string };
  file?: number;
  written: number;
  /** End of the last sample, in seconds of session time. */
  endSeconds: number;
  newestMsn?: number;
  newestInit?: string;
  /** Bytes and seconds of the segments of the live window, for the measured bitrate. */
  recent: Array<{ bytes: number; seconds: number }>;
  recorded: RecordedSegment[];
  /** The recording file was begun by the node this session was taken over from. */
  recordingContinued?: boolean;
  lastPartAt?: number;
  /** Segments without media that this rendition lists before its next one (see alignNumbers). */
  gaps: Array<Omit<RecordedSegment, 'gap'>>;
}

export class Packager {
  private readonly renditions = new Map<string, RenditionState>();
  /** The video rendition the audio is cut with. */
  private reference: string | undefined;
  private run: RunState | undefined;
  private runs = 0;
  private inits = 0;
  private finished = false;

  constructor(private readonly options: PackagerOptions) {
    const { continues } = options;
    this.add(options.renditions, continues?.nextMsn ?? 1, continues?.discontinuities ?? 0);
    const info: LiveSessionInfo = {
      playbackId: options.playbackId,
      sessionId: options.sessionId,
      mode: options.mode,
      partTarget: options.partSeconds,
      renditions: options.renditions.map((r) => r.name),
      timeline: { listSize: options.listSize, segmentSeconds: options.segmentSeconds, discontinuitySequence: continues?.discontinuities ?? 0 },
    };
    options.catalog.apply({ type: 'open', session: info });
  }

  /**
   * Renditions that join the session from the next run on (a track the plan left out began to
   * arrive). Their sequence numbers start where the others' next segment will be.
   */
  addRenditions(renditions: PackagerOptions['renditions']): void {
    const fresh = renditions.filter((r) => !this.renditions.has(r.name));
    if (fresh.length === 0 || this.finished) return;
    const others = [...this.renditions.values()];
    this.add(fresh, Math.max(1, ...others.map((r) => r.nextMsn)), Math.max(0, ...others.map((r) => r.discontinuities)));
    const { catalog, playbackId, sessionId } = this.options;
    catalog.apply({ type: 'renditions', playbackId, sessionId, added: fresh.map((r) => r.name) });
  }

  private add(renditions: PackagerOptions['renditions'], nextMsn: number, discontinuities: number): void {
    const { layout, playbackId, sessionId } = this.options;
    for (const { name, kind } of renditions) {
      this.renditions.set(name, {
        name,
        kind,
        dir: layout.renditionDir(playbackId, sessionId, name),
        discontinuity: false,
        discontinuities,
        nextMsn,
        msn: 0,
        partIndex: 0,
        sequence: 0,
        written: 0,
        endSeconds: 0,
        recent: [],
        recorded: [],
        gaps: [],
      });
    }
    this.reference ??= renditions.find((r) => r.kind === 'video')?.name;
  }

  /**
   * A run begins (a publisher, or a restarted transcoder): its media continues the session's
   * timeline where the previous run ended, behind a discontinuity. The previous run is ended first.
   */
  beginRun(start: { capturedAt: (inputMs: number) => number; renditions: readonly string[] }): RunPackaging {
    this.endRun();
    this.alignNumbers();
    const offsetMs = Math.ceil(Math.max(0, ...[...this.renditions.values()].map((r) => r.endSeconds)) * 1000);
    const reference = this.reference !== undefined && start.renditions.includes(this.reference) ? this.reference : undefined;
    const run: RunState = { number: ++this.runs, capturedAt: start.capturedAt, startedAt: 0, offsetMs, reference, waitingAudio: new Map(), referenceUpTo: -Infinity, ended: false };
    this.run = run;
    for (const state of this.renditions.values()) {
      state.segmenter = undefined;
      state.track = undefined;
      state.discontinuity = run.number > 1 || this.options.continues !== undefined;
      // Again for every run: a folder removed under the previous one is there for this one.
      this.write(run, () => fs.mkdirSync(state.dir, { recursive: true }));
    }
    return {
      startsAt: (inputMs) => this.guard(run, () => this.startRunAt(run, inputMs)),
      track: (rendition, track) => this.guard(run, () => this.onTrack(run, rendition, track)),
      sample: (rendition, sample) => this.guard(run, () => this.onSample(run, rendition, sample)),
      end: () => {
        if (this.run === run) this.endRun();
      },
    };
  }

  /** Renditions that have a complete segment. */
  get renditionsWithSegments(): number {
    return [...this.renditions.values()].filter((r) => r.newestMsn !== undefined).length;
  }

  /** When the slowest of these renditions last produced a part, if every one has. */
  slowestPartAt(renditions: readonly string[]): number | undefined {
    const times = renditions.map((name) => this.renditions.get(name)?.lastPartAt);
    return times.some((t) => t === undefined) ? undefined : Math.min(...(times as number[]));
  }

  /** A rendition's newest complete segment, with the init segment it needs, as paths. */
  newestSegment(rendition: string): { init: string; segment: string } | undefined {
    const state = this.renditions.get(rendition);
    if (state?.newestMsn === undefined || !state.newestInit) return undefined;
    return { init: path.join(state.dir, state.newestInit), segment: path.join(state.dir, segmentName(state.newestMsn)) };
  }

  /** A rendition's bitrate over the segments of its live window, kbit/s. */
  measuredKbps(rendition: string): number | undefined {
    const recent = this.renditions.get(rendition)?.recent ?? [];
    const seconds = recent.reduce((sum, r) => sum + r.seconds, 0);
    return seconds > 0 ? (recent.reduce((sum, r) => sum + r.bytes, 0) * 8) / seconds / 1000 : undefined;
  }

  /**
   * The session ended: the last run's media is packaged, each rendition's playlist is written with
   * EXT-X-ENDLIST (the live ones are rendered from memory), the recording becomes a VOD, and the
   * session leaves the catalog. Handed over, it only leaves the catalog.
   */
  finish({ handover }: { handover: boolean }): void {
    if (this.finished) return;
    this.endRun();
    this.finished = true;
    const { catalog, playbackId, sessionId } = this.options;
    for (const state of this.renditions.values()) {
      // Another node goes on with the session: nothing here may say it ended (the recording, written
      // as segments complete, stays as it stands).
      if (handover) continue;
      this.publish(state.name, { type: 'ended' });
      const timeline = catalog.get(playbackId, sessionId)?.timelines.get(state.name);
      if (timeline && timeline.window.length > 0) {
        writeAtomicSync(path.join(state.dir, LIVE_PLAYLIST), renderLivePlaylist(timeline, { mode: 'standard', partTarget: this.options.partSeconds, skip: false, reports: [] }));
      }
      if (this.options.record && state.recorded.length > 0) {
        const file = path.join(state.dir, RECORDING_PLAYLIST);
        // A recording begun by another node holds entries this one never had: it is ended, not rewritten.
        if (state.recordingContinued) fs.appendFileSync(file, '#EXT-X-ENDLIST\n');
        else writeAtomicSync(file, renderRecording(state.recorded, { segmentSeconds: this.options.segmentSeconds, ended: true }));
      }
    }
    catalog.apply({ type: 'close', playbackId, sessionId });
  }

  /**
   * Every rendition's next segment gets the same number. A run normally ends with as many segments
   * in each, but a transcoder stopped after a stall gave its renditions fewer than the copied
   * source: each lists the time it lacks as segments without media, numbered and timed as those of
   * the rendition that has the most, before its next segment. A rendition without media yet just
   * starts at that number.
   */
  private alignNumbers(): void {
    const states = [...this.renditions.values()];
    const leader = states.reduce((most, state) => (state.nextMsn > most.nextMsn ? state : most));
    const timelines = this.options.catalog.get(this.options.playbackId, this.options.sessionId)?.timelines;
    for (const state of states) {
      if (state.nextMsn >= leader.nextMsn) continue;
      if (state.init !== undefined) {
        let end = state.gaps.at(-1) ?? timelines?.get(state.name)?.segments.at(-1);
        for (let msn = state.nextMsn; msn < leader.nextMsn; msn++) {
          const had: Pick<SegmentInfo, 'programDateTime' | 'duration'> = timelines?.get(leader.name)?.segment(msn) ?? {
            programDateTime: end ? new Date(Date.parse(end.programDateTime) + (end.duration ?? 0) * 1000).toISOString() : new Date(this.options.now()).toISOString(),
            duration: this.options.segmentSeconds,
          };
          const gap = { msn, duration: had.duration ?? this.options.segmentSeconds, programDateTime: had.programDateTime, discontinuity: false, init: state.init };
          state.gaps.push(gap);
          end = gap;
        }
      }
      state.nextMsn = leader.nextMsn;
    }
  }

  /** The gaps a rendition lists before its next segment, published as that segment's first part is. */
  private publishGaps(state: RenditionState): void {
    for (const gap of state.gaps.splice(0)) {
      const { msn, duration, ...start } = gap;
      this.publish(state.name, { type: 'gap', msn, duration, start });
      this.keep(state, { ...gap, gap: true });
    }
  }

  private endRun(): void {
    const run = this.run;
    if (!run || run.ended) return;
    // The video the audio follows first: its last cut is known before the audio is flushed.
    const order = [...this.renditions.values()].sort((a, b) => (a.name === run.reference ? -1 : b.name === run.reference ? 1 : 0));
    this.write(run, () => {
      for (const state of order) this.closeSegmenter(run, state);
    });
    run.ended = true;
  }

  /** A rendition's timeline so far is complete: the audio held for its video goes in first. */
  private closeSegmenter(run: RunState, state: RenditionState): void {
    for (const sample of run.waitingAudio.get(state.name) ?? []) state.segmenter?.push(sample);
    run.waitingAudio.delete(state.name);
    state.segmenter?.end();
    state.segmenter = undefined;
  }

  private guard(run: RunState, work: () => void): void {
    if (this.run !== run || run.ended || this.finished) return;
    this.write(run, work);
  }

  /** File work of a run: if it fails, the run is over and its owner is told. */
  private write(run: RunState, work: () => void): void {
    try {
      work();
    } catch (error) {
      // File errors only (they carry an errno code); anything else is a bug, for the caller's guard.
      if (typeof (error as NodeJS.ErrnoException | undefined)?.code !== 'string') throw error;
      if (run.ended) return;
      run.ended = true;
      for (const state of this.renditions.values()) this.closeFile(state);
      this.options.onRunFailed(error);
    }
  }

  private closeFile(state: RenditionState): void {
    if (state.file === undefined) return;
    fs.closeSync(state.file);
    state.file = undefined;
    state.written = 0;
  }

  private startRunAt(run: RunState, inputMs: number): void {
    if (run.inputStartMs !== undefined) return;
    run.inputStartMs = inputMs;
    run.startedAt = run.capturedAt(inputMs);
  }

  private onTrack(run: RunState, rendition: string, track: Track): void {
    const state = this.renditions.get(rendition);
    if (!state) return;
    if (state.track && sameTrack(state.track, track)) return;
    if (state.segmenter) {
      // New codec parameters within a run: what came before is closed, and a new timeline begins.
      this.closeSegmenter(run, state);
      state.discontinuity = true;
    }
    state.track = track;
    state.init = initName(++this.inits);
    fs.writeFileSync(path.join(state.dir, state.init), initSegment(track));
    const timescale = track.timescale;
    const video = track.kind === 'video';
    state.segmenter = new Segmenter(
      {
        timescale,
        partTicks: Math.floor(this.options.partSeconds * timescale),
        segmentTicks: this.options.segmentSeconds * timescale,
        cut: video ? 'keyframes' : run.reference ? 'follow' : 'grid',
        defaultDuration: video ? Math.round(timescale / 30) : AAC_FRAME_SAMPLES,
      },
      {
        segmentStart: (dts) => this.onSegmentStart(run, state, dts),
        part: (part) => this.onPart(state, part),
        segmentEnd: (duration) => this.onSegmentEnd(state, duration),
      },
    );
  }

  private onSample(run: RunState, rendition: string, sample: Sample): void {
    const state = this.renditions.get(rendition);
    const track = state?.track;
    if (!state?.segmenter || !track) return;
    if (run.inputStartMs === undefined) this.startRunAt(run, (sample.dts / track.timescale) * 1000);
    // Media from before the run's start would land in the previous run's time.
    if (sample.dts < ticks(run.inputStartMs!, track.timescale)) return;
    const shift = ticks(run.offsetMs - run.inputStartMs!, track.timescale);
    const mapped: Sample = { ...sample, dts: sample.dts + shift };
    if (state.kind === 'audio' && run.reference && state.segmenter) {
      const waiting = run.waitingAudio.get(rendition) ?? [];
      waiting.push(mapped);
      run.waitingAudio.set(rendition, waiting);
      this.releaseAudio(run, state, waiting);
      return;
    }
    state.segmenter.push(mapped);
    if (rendition === run.reference) {
      run.referenceUpTo = mapped.dts / track.timescale;
      for (const audio of this.renditions.values()) {
        const waiting = run.waitingAudio.get(audio.name);
        if (audio.kind === 'audio' && waiting) this.releaseAudio(run, audio, waiting);
      }
    }
  }

  /** Audio up to where the reference video has been seen goes on; so does audio the video left behind by two segments. */
  private releaseAudio(run: RunState, state: RenditionState, waiting: Sample[]): void {
    const timescale = state.track?.timescale;
    if (!timescale || !state.segmenter || waiting.length === 0) return;
    const limit = Math.max(run.referenceUpTo, waiting.at(-1)!.dts / timescale - 2 * this.options.segmentSeconds);
    let released = 0;
    while (released < waiting.length && waiting[released]!.dts / timescale <= limit) state.segmenter.push(waiting[released++]!);
    waiting.splice(0, released);
  }

  private onSegmentStart(run: RunState, state: RenditionState, dts: number): void {
    const timescale = state.track!.timescale;
    state.msn = state.nextMsn++;
    state.partIndex = 0;
    const sessionMs = (dts / timescale) * 1000;
    state.segmentStart = {
      discontinuity: state.discontinuity,
      programDateTime: new Date(Math.round(run.startedAt + sessionMs - run.offsetMs)).toISOString(),
      init: state.init!,
    };
    if (state.discontinuity) state.discontinuities += 1;
    state.discontinuity = false;
    if (state.name !== run.reference) return;
    for (const audio of this.renditions.values()) {
      if (audio.kind === 'audio' && audio.track) audio.segmenter?.follow(Math.round((dts / timescale) * audio.track.timescale));
    }
  }

  private onPart(state: RenditionState, part: ClosedPart): void {
    const track = state.track!;
    // The part as one buffer: written, and kept for delivery.
    const bytes = Buffer.concat(fragment(++state.sequence, part.baseDts, part.samples, track.kind === 'video'));
    state.file ??= fs.openSync(path.join(state.dir, segmentName(state.msn)), 'w');
    writeAll(state.file, bytes);
    const offset = state.written;
    const length = bytes.length;
    state.written += length;
    state.endSeconds = (part.baseDts + part.duration) / track.timescale;
    state.lastPartAt = this.options.now();
    const index = state.partIndex++;
    if (index === 0) this.publishGaps(state);
    this.options.catalog.get(this.options.playbackId, this.options.sessionId)?.keepPart(state.name, state.msn, index, bytes);
    const event: TimelineEvent = {
      type: 'part',
      msn: state.msn,
      part: { index, duration: part.duration / track.timescale, independent: part.independent, offset, length },
      ...(index === 0 && state.segmentStart && { start: state.segmentStart }),
    };
    this.publish(state.name, event);
  }

  private onSegmentEnd(state: RenditionState, durationTicks: number): void {
    if (state.file === undefined) return;
    const seconds = durationTicks / state.track!.timescale;
    const bytes = state.written;
    this.closeFile(state);
    const start = state.segmentStart!;
    state.newestMsn = state.msn;
    state.newestInit = start.init;
    state.recent.push({ bytes, seconds });
    if (state.recent.length > this.options.listSize) state.recent.shift();
    this.publish(state.name, { type: 'segment', msn: state.msn, duration: seconds });
    this.keep(state, { msn: state.msn, duration: seconds, ...start });
    this.options.onSegment(state.name, state.msn, state.discontinuities);
  }

  /** A complete segment goes into the recording; unrecorded, the oldest segment no longer kept is removed. */
  private keep(state: RenditionState, recorded: RecordedSegment): void {
    if (this.options.record) {
      const file = path.join(state.dir, RECORDING_PLAYLIST);
      const previous = state.recorded.at(-1);
      if (!previous) state.recordingContinued = this.continuesRecording(file);
      if (!previous && !state.recordingContinued)
        fs.writeFileSync(file, recordingHeader(recorded.msn, { segmentSeconds: this.options.segmentSeconds, ended: false }).join('\n') + '\n');
      if (recorded.gap && !state.recorded.some((r) => r.gap)) fs.writeFileSync(file, withGapVersion(fs.readFileSync(file, 'utf8')));
      fs.appendFileSync(file, recordingEntry(recorded, previous?.init).join('\n') + '\n');
      state.recorded.push(recorded);
    } else {
      const expired = recorded.msn - keptSegments(this.options.listSize);
      if (expired >= 1) fs.rmSync(path.join(state.dir, segmentName(expired)), { force: true });
    }
  }

  /**
   * A session continued from another node finds that node's recording here only when the nodes
   * share their media folder; unended, it goes on (behind a discontinuity).
   */
  private continuesRecording(file: string): boolean {
    if (!this.options.continues) return false;
    try {
      return !hasEndList(fs.readFileSync(file, 'utf8'));
    } catch {
      return false;
    }
  }

  private publish(rendition: string, event: TimelineEvent): void {
    this.options.catalog.apply({ type: 'timeline', playbackId: this.options.playbackId, sessionId: this.options.sessionId, rendition, event });
  }
}

/** Writes all of `bytes` at the file's position. */
function writeAll(fd: number, bytes: Buffer): void {
  for (let at = 0; at < bytes.length;) at += fs.writeSync(fd, bytes, at);
}
