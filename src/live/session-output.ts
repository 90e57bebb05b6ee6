// What a live session makes of its publishers' media: the ladder plan, the packager, and the runs
// that feed it (one per publisher, and again after a transcoder crash or stall, a change in the
// publisher's tracks, or a move to cheaper encoding), with the stream's master playlists once
// every rendition has a segment.
import type { MediaTag } from '../ingest/media';
import type { ReadRounds } from '../ingest/read-rounds';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { SessionRecord } from './session-repository';
import type { Catalog } from '../packaging/catalog';
import { LIVE_PLAYLIST, RECORDING_PLAYLIST, sessionUriPrefix } from '../packaging/media-layout';
import { buildMasterPlaylist } from '../packaging/master-playlist';
import type { LatencyMode } from '../packaging/media-playlist';
import { Packager } from '../packaging/packager';
import type { Posters, PosterSource } from '../packaging/posters';
import type { StreamFiles } from '../packaging/stream-files';
import type { StreamRecord } from '../streams/stream-repository';
import { describeRenditions, economyPlan, planLadder, renditionNames, type LadderPlan, type Profile, type SourceInfo } from '../transcode/ladder';
import { Run } from '../transcode/run';
import { SpeedWindow } from '../transcode/speed-window';
import type { TranscoderExit, TranscoderProgress } from '../transcode/transcoder';
import { settledWithin } from './session-journal';
import type { PublisherFeed } from './publisher-feed';
import type { WatchedRun } from './session-watchdog';

export interface OutputSettings {
  segmentSeconds: number;
  partSeconds: number;
  listSize: number;
  preset: string;
  audioBitrateKbps: number;
  stopGraceMs: number;
  maxRestarts: number;
  restartWindowMs: number;
}

/** What the session's output does for its state machine (LiveSession). */
export interface SessionMedia {
  readonly plan: LadderPlan | undefined;
  readonly progress: TranscoderProgress | undefined;
  readonly transcoderRestarts: number;
  prepare(source: SourceInfo): void;
  /** Whether the encoding was already made cheaper (economize). */
  readonly economy: boolean;
  economize(): void;
  watched(): WatchedRun | undefined;
  startRun(feed: PublisherFeed, media: MediaTag[]): void;
  write(feed: PublisherFeed, tag: MediaTag, flush: boolean): void;
  endInput(feed: PublisherFeed): void;
  restart(why: 'crashed' | 'stalled'): void;
  posterSource(): PosterSource | undefined;
  finish(how: FinishOptions): Promise<void>;
}

export interface FinishOptions {
  /** Let the runs finish what they have (the publisher stopped), within the grace period. */
  drain: boolean;
  /** Keep the last picture as the stream's poster. */
  keepPoster: boolean;
  /** The session goes on on another node: its playlists are left unended. */
  handover: boolean;
}

/** What the state machine tells its output: whose it is, where to report, how to run callbacks from outside. */
export interface OutputEvents {
  sessionId: string;
  log: Logger;
  /** Every rendition has a segment and the stream's master points at them. */
  onLive: () => void;
  /** The output cannot go on: the transcoder failed more often than allowed, could not start, or the master could not be written. */
  onFailed: () => void;
  /** A run was restarted; `restarts` so far. */
  onRestart: (restarts: number) => void;
  /** The first rendition completed segment `lastMsn`, with `discontinuities` so far: where a node taking the session over goes on from. */
  onPosition: (lastMsn: number, discontinuities: number) => void;
  /** Runs callbacks that come from outside (timers, process exits) inside the session's error guard. */
  guard: (work: () => void) => void;
}

export interface SessionOutputDeps extends OutputEvents {
  stream: StreamRecord;
  profile: Profile;
  latencyMode: LatencyMode;
  settings: OutputSettings;
  files: StreamFiles;
  catalog: Catalog;
  posters: Pick<Posters, 'keepLast'>;
  ffmpegPath: string;
  /** ffmpeg's output is read in the publishers' rounds. */
  readRounds: ReadRounds;
  metrics: Metrics;
  now: () => number;
  /** The session was begun by another node: its playlists go on where that node's stood. */
  continues?: { nextMsn: number; discontinuities: number };
}

/**
 * ffmpeg's input is gathered for about this long before it is written (Transcoder.write), except
 * around keyframes: near one, tags are written as they come.
 */
const INPUT_BATCH_MS = 100;
/** ffmpeg's speed is measured over this much time. */
const SPEED_WINDOW_MS = 10_000;
/** x264's cheapest preset, for a transcoder that cannot keep up. */
const ECONOMY_PRESET = 'ultrafast';

interface CurrentRun {
  run: Run;
  feed: PublisherFeed;
  startedAt?: number;
  speed: SpeedWindow;
  /** Its publisher left: it finishes what it has, and is neither watched nor restarted. */
  inputEnded?: boolean;
}

export class SessionOutput implements SessionMedia {
  private currentPlan: LadderPlan | undefined;
  /** Every track the session's publishers have sent: what the plan is made for. */
  private planned: SourceInfo = {};
  private packager: Packager | undefined;
  private current: CurrentRun | undefined;
  /** Every run that has not exited: the current one and any still finishing. */
  private readonly runs = new Set<Run>();
  private restartTimes: number[] = [];
  private restarts = 0;
  private masterWritten = false;
  private ending = false;
  private economical = false;
  progress: TranscoderProgress | undefined;

  constructor(private readonly deps: SessionOutputDeps) {}

  get plan(): LadderPlan | undefined {
    return this.currentPlan;
  }

  /** The first publisher's source decides the renditions; a track it lacked widens them later (startRun). */
  prepare(source: SourceInfo): void {
    const { settings, stream, files, catalog } = this.deps;
    const plan = this.planFor(source);
    const renditions = packagedRenditions(plan);
    const first = renditions[0]?.name;
    this.packager = new Packager({
      playbackId: stream.playbackId,
      sessionId: this.deps.sessionId,
      layout: files.layout,
      renditions,
      mode: this.deps.latencyMode,
      partSeconds: settings.partSeconds,
      segmentSeconds: settings.segmentSeconds,
      listSize: settings.listSize,
      record: stream.record,
      catalog,
      now: this.deps.now,
      ...(this.deps.continues && { continues: this.deps.continues }),
      onSegment: (rendition, msn, discontinuities) =>
        this.deps.guard(() => {
          if (rendition === first) this.deps.onPosition(msn, discontinuities);
          this.onSegment();
        }),
      onRunFailed: (error) =>
        this.deps.guard(() => {
          this.deps.log.error({ err: error }, "cannot write the stream's files; restarting the run");
          this.restart('crashed');
        }),
    });
  }

  /** Plans the renditions for every track seen so far. */
  private planFor(source: SourceInfo): LadderPlan {
    this.planned = { ...this.planned, ...source };
    const plan = planLadder(this.planned, { profile: this.deps.profile, audioBitrateKbps: this.deps.settings.audioBitrateKbps });
    this.currentPlan = plan;
    this.deps.log.info(
      { source: this.planned, renditions: renditionNames(plan) },
      `transcoding ${plan.video.map((r) => `${r.name} ${r.width}x${r.height} (${r.mode})`).join(', ') || 'audio only'}`,
    );
    return plan;
  }

  /** The run fed by the current publisher, for the watchdog. */
  watched(): WatchedRun | undefined {
    const current = this.current;
    if (current?.startedAt === undefined || current.inputEnded) return undefined;
    const lastOutputAt = this.packager?.slowestPartAt(current.run.renditions);
    return {
      startedAt: current.startedAt,
      lastOutputAt: lastOutputAt !== undefined && lastOutputAt >= current.startedAt ? lastOutputAt : undefined,
      backlogBytes: current.run.backlogBytes,
      speed: recentSpeed(current.speed),
    };
  }

  get economy(): boolean {
    return this.economical;
  }

  /**
   * The transcoder cannot keep up: from a new run on, its renditions are encoded with x264's
   * cheapest preset and at most 30 fps. The renditions and their playlists stay as they are.
   */
  economize(): void {
    const current = this.current;
    if (this.economical || !current || current.inputEnded) return;
    this.economical = true;
    this.startRun(current.feed, []);
  }

  get transcoderRestarts(): number {
    return this.restarts;
  }

  /**
   * A new run for the tracks this publisher sends now (its feed's source), fed `media` first: the
   * tags the probe held, or the keyframe that starts it. With no media it waits for the next
   * keyframe. A track the plan lacks widens the plan first: its renditions join the session, and
   * the master is written again once they have segments. It starts once the previous run has exited.
   */
  startRun(feed: PublisherFeed, media: MediaTag[]): void {
    const { settings } = this.deps;
    const source = feed.source!;
    const plan = this.currentPlan!;
    if ((source.video && plan.video.length === 0) || (source.audio && plan.audio.length === 0)) {
      this.packager!.addRenditions(packagedRenditions(this.planFor(source)));
      this.masterWritten = false;
    }
    feed.waitForKeyframe = media.length === 0 && source.video !== undefined;
    const previous = this.current;
    const speed = new SpeedWindow(SPEED_WINDOW_MS);
    const run = new Run({
      plan: this.economical ? economyPlan(this.currentPlan!) : this.currentPlan!,
      source,
      preset: this.economical ? ECONOMY_PRESET : settings.preset,
      segmentSeconds: settings.segmentSeconds,
      label: this.deps.files.layout.sessionDir(this.deps.stream.playbackId, this.deps.sessionId),
      ffmpegPath: this.deps.ffmpegPath,
      stopGraceMs: settings.stopGraceMs,
      inputBatchMs: INPUT_BATCH_MS,
      readRounds: this.deps.readRounds,
      logger: this.deps.log,
      onProgress: (progress) => {
        if (this.current?.run !== run) return;
        if (progress.mediaSeconds !== undefined) speed.add(this.deps.now(), progress.mediaSeconds);
        // The API and the metrics show the speed of the last seconds, once known.
        const recent = recentSpeed(speed);
        this.progress = { ...progress, ...(recent !== undefined && { speed: recent }) };
      },
    });
    const current: CurrentRun = { run, feed, speed };
    this.current = current;
    this.runs.add(run);
    void run.exited.then((exit) => {
      this.runs.delete(run);
      this.deps.guard(() => this.onRunExit(current, exit));
    });
    for (const tag of feed.headerTags()) run.write(tag, true);
    for (const tag of media) run.write(tag, false);
    void this.launch(current, previous).catch((error: unknown) => {
      this.deps.log.error({ err: error }, 'cannot start the transcoder');
      this.deps.onFailed();
    });
  }

  /** A tag from the current run's publisher. `flush`: near a keyframe, where segments are cut. */
  write(feed: PublisherFeed, tag: MediaTag, flush: boolean): void {
    if (this.current?.feed === feed) this.current.run.write(tag, flush);
  }

  /** The publisher is gone: its run finishes what it has. */
  endInput(feed: PublisherFeed): void {
    const current = this.current;
    if (current?.feed !== feed) return;
    current.inputEnded = true;
    current.run.endInput();
  }

  /** A crashed or stalled transcoder is replaced within the session, a bounded number of times. */
  restart(why: 'crashed' | 'stalled'): void {
    const { settings, metrics, log } = this.deps;
    const current = this.current;
    // A run whose publisher left is only finishing: the next publisher gets a run of its own.
    if (!current || current.inputEnded) return;
    const now = this.deps.now();
    this.restartTimes = this.restartTimes.filter((at) => now - at < settings.restartWindowMs);
    if (this.restartTimes.length >= settings.maxRestarts) {
      log.error({ restarts: this.restartTimes.length }, `the transcoder ${why} again; too many restarts, ending the session`);
      this.deps.onFailed();
      return;
    }
    this.restartTimes.push(now);
    this.restarts += 1;
    metrics.transcoderRestarts.inc({ reason: why });
    log.warn({ why, restart: this.restarts }, 'restarting the transcoder');
    if (why === 'stalled') void current.run.stop(1000);
    this.startRun(current.feed, []);
    this.deps.onRestart(this.restarts);
  }

  /**
   * The session's newest picture, for a poster: the newest segment of the smallest video rendition
   * at least as tall as the poster (the cheapest to decode), else of the tallest.
   */
  posterSource(): PosterSource | undefined {
    const { currentPlan: plan, packager } = this;
    if (!plan?.poster || !packager) return undefined;
    const poster = plan.poster;
    const byHeight = [...plan.video].sort((a, b) => a.height - b.height);
    const rendition = byHeight.find((video) => video.height >= poster.height) ?? byHeight.at(-1);
    const newest = rendition && packager.newestSegment(rendition.name);
    return newest ? { ...newest, ...poster } : undefined;
  }

  /**
   * The end: a publisher that left gets its runs drained (the last segment finished); anything
   * else stops them now. Then the playlists are ended and the last picture kept as the poster.
   */
  async finish({ drain, keepPoster, handover }: FinishOptions): Promise<void> {
    this.ending = true;
    await Promise.all(
      [...this.runs].map(async (run) => {
        if (!(drain && (await settledWithin(run.exited, this.deps.settings.stopGraceMs)))) await run.stop();
      }),
    );
    this.packager?.finish({ handover });
    const poster = this.posterSource();
    if (poster && keepPoster) await this.deps.posters.keepLast(this.deps.stream.playbackId, poster);
  }

  private async launch(current: CurrentRun, previous: CurrentRun | undefined): Promise<void> {
    if (previous) await this.retire(previous.run);
    if (this.current !== current || this.ending) {
      await current.run.stop();
      return;
    }
    const { feed } = current;
    current.startedAt = this.deps.now();
    const packaging = this.packager!.beginRun({ capturedAt: (timestamp) => feed.capturedAt(timestamp, this.deps.now()) ?? this.deps.now(), renditions: current.run.renditions });
    current.run.start(packaging);
  }

  /** Lets a run finish its input, within the grace period; then stops it. */
  private async retire(run: Run): Promise<void> {
    run.endInput();
    if (!(await settledWithin(run.exited, this.deps.settings.stopGraceMs))) await run.stop();
  }

  private onRunExit(current: CurrentRun, exit: TranscoderExit): void {
    this.deps.metrics.transcoderExits.inc({ kind: exit.expected ? 'expected' : 'failed' });
    if (current !== this.current || this.ending || exit.expected) return;
    this.deps.log.error({ code: exit.code, signal: exit.signal, stderr: exit.stderrTail.slice(-8), spawnError: exit.spawnError }, 'the transcoder exited unexpectedly');
    this.restart('crashed');
  }

  private onSegment(): void {
    const { currentPlan: plan, packager } = this;
    if (!plan || !packager || this.masterWritten || packager.renditionsWithSegments < renditionNames(plan).length) return;
    this.masterWritten = true;
    void this.publishMasters(plan, packager).catch((error: unknown) => {
      this.deps.log.error({ err: error }, 'cannot write the master playlist');
      this.deps.onFailed();
    });
  }

  /** Every rendition has a segment: the stream's master can point at them, and the stream is live. */
  private async publishMasters(plan: LadderPlan, packager: Packager): Promise<void> {
    const { files, stream, sessionId } = this.deps;
    const measured: Record<string, number> = {};
    for (const name of renditionNames(plan)) {
      const kbps = packager.measuredKbps(name);
      if (kbps !== undefined) measured[name] = Math.round(kbps);
    }
    const description = describeRenditions(plan, measured);
    await files.writeStreamMaster(stream.playbackId, buildMasterPlaylist(description, { uriPrefix: sessionUriPrefix(sessionId), playlist: LIVE_PLAYLIST }));
    if (stream.record) await files.writeSessionMaster(stream.playbackId, sessionId, buildMasterPlaylist(description, { uriPrefix: '', playlist: RECORDING_PLAYLIST }));
    if (!this.ending) this.deps.onLive();
  }
}

/**
 * Where a session taken over from another node goes on. That node's newest segment in the record
 * may lag its playlists by a segment still being written (its parts already listed), so the next
 * sequence number skips one: numbers are never used twice, and a gap is allowed.
 */
export function continuationOf(record: Pick<SessionRecord, 'lastMsn' | 'discontinuities'>): { nextMsn: number; discontinuities: number } {
  return { nextMsn: (record.lastMsn ?? 0) + 2, discontinuities: record.discontinuities };
}

/** The packager's view of a plan: video renditions first (the first one cuts the audio). */
function packagedRenditions(plan: LadderPlan): Array<{ name: string; kind: 'video' | 'audio' }> {
  return [...plan.video.map((v) => ({ name: v.name, kind: 'video' as const })), ...plan.audio.map((a) => ({ name: a.name, kind: 'audio' as const }))];
}

/** ffmpeg's speed over the last seconds, to two decimals, once known. */
function recentSpeed(window: SpeedWindow): number | undefined {
  const speed = window.speed;
  return speed === undefined ? undefined : Math.round(speed * 100) / 100;
}
