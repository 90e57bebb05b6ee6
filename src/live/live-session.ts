import { flvHeader, type MediaTag } from '../ingest/media';
import type { Publisher, PublisherCloseReason } from '../ingest/publisher';
import { buildMasterPlaylist } from '../hls/master-playlist';
import { sessionUriPrefix } from '../hls/media-layout';
import type { Posters, PosterSource } from '../hls/posters';
import { SegmentCollector } from '../hls/segment-collector';
import type { StreamFiles } from '../hls/stream-files';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { StreamRecord } from '../streams/stream-repository';
import { buildFfmpegArgs, type TranscodeJob } from '../transcode/ffmpeg-args';
import { planLadder, renditionNames, type LadderPlan, type Profile, type SourceInfo } from '../transcode/ladder';
import { Remuxer, remuxable } from '../transcode/remuxer';
import { Transcoder, type RunOutput, type TranscoderExit, type TranscoderProgress } from '../transcode/transcoder';
import { PublisherFeed } from './publisher-feed';
import type { SessionRecord, SessionRepository } from './session-repository';

export type SessionState = 'authorizing' | 'starting' | 'live' | 'reconnecting' | 'ending' | 'ended';

export type EndReason =
  | 'publisher_left'
  | 'reconnect_window_expired'
  | 'kicked'
  | 'key_reset'
  | 'stream_disabled'
  | 'stream_deleted'
  | 'no_media'
  | 'unsupported_codec'
  | 'no_keyframe'
  | 'unknown_video_size'
  | 'source_changed'
  | 'transcoder_failed'
  | 'transcoder_overloaded'
  | 'internal_error'
  | 'shutdown';

export interface SessionSettings {
  segmentSeconds: number;
  listSize: number;
  preset: string;
  audioBitrateKbps: number;
  stopGraceMs: number;
  firstMediaTimeoutMs: number;
  reconnectWindowMs: number;
  takeoverIdleMs: number;
  stallSegments: number;
  startupGraceMs: number;
  maxRestarts: number;
  restartWindowMs: number;
  backlogWarnBytes: number;
  backlogMaxBytes: number;
}

export interface LiveSessionDeps {
  id: string;
  stream: StreamRecord;
  profile: Profile;
  node: string;
  settings: SessionSettings;
  files: StreamFiles;
  posters: Pick<Posters, 'keepLast'>;
  store: SessionRepository;
  ffmpegPath: string;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  onStateChange: (session: LiveSession, state: SessionState) => void;
  /** The publisher's connection ended (dropped, stopped, or cut off by the origin). */
  onPublisherGone: (session: LiveSession, why: string) => void;
}

export interface LiveSessionInfo {
  id: string;
  state: SessionState;
  startedAt: number;
  clientAddress?: string;
  profile: string;
  recorded: boolean;
  reconnects: number;
  transcoderRestarts: number;
  ingest: {
    video?: { codec: string; width: number; height: number; frameRate?: number };
    audio?: { codec: string; sampleRate?: number; channels?: number };
    bitrateKbps?: number;
    keyframeIntervalSeconds?: number;
    bytesIn: number;
  };
  renditions: Array<{ name: string; kind: 'video' | 'audio'; mode: 'encode' | 'copy'; width?: number; height?: number; bitrateKbps?: number }>;
  transcoder?: TranscoderProgress;
  warnings: string[];
}

/** One run (an ffmpeg, or the in-process remuxer) and the publisher whose media it reads. */
interface Run {
  feed: PublisherFeed;
  transcoder: RunOutput;
  start: (job: TranscodeJob) => void;
  startedAt?: number;
  lastSegmentAt?: number;
  producedSegment: boolean;
  /** When the first frame the run was given was captured (see PublisherFeed.capturedAt). */
  mediaStartsAt?: number;
}

const WATCHDOG_MS = 1000;
/**
 * About how long ffmpeg's input is gathered before it is written (Transcoder.write). Around a
 * keyframe, where ffmpeg cuts a segment, tags are written as they come: the keyframe with
 * everything before it, and the tags of the next KEYFRAME_UNBATCHED_MS, because ffmpeg interleaves
 * audio and video and writes the keyframe only once a later audio packet has arrived. So segments
 * are listed no later for the batching; only the poster and progress figures can lag by up to a
 * batch.
 */
const INPUT_BATCH_MS = 100;
const KEYFRAME_UNBATCHED_MS = 200;
/** A publisher silent for this long is not sending: a lack of segments is then not ffmpeg's fault. */
const PUBLISHER_SILENT_MS = 2000;
const BITRATE_WINDOW_SAMPLES = 5;

/**
 * One publish of one stream, from the accepted publish command to the end of its playlists:
 *
 *   authorizing → starting → live ⇄ reconnecting → ending → ended
 *
 * A session outlives its publisher for the reconnect window and its ffmpeg runs: a publisher that
 * comes back, a publish that takes over a half-open connection, or a transcoder restarted after a
 * crash or stall each start a new run that continues the same playlists (with a discontinuity).
 * Every way out goes through stop(reason), which is idempotent.
 */
export class LiveSession {
  readonly id: string;
  readonly stream: StreamRecord;
  readonly startedAt: number;
  private currentState: SessionState = 'authorizing';
  private endReason: EndReason | undefined;
  private feed: PublisherFeed | undefined;
  /** The source of the current (or last) publisher, for info(). */
  private lastSource: SourceInfo | undefined;
  private run: Run | undefined;
  /** Every run of this session that has not exited: the current one and any still finishing. */
  private readonly transcoders = new Set<RunOutput>();
  private plan: LadderPlan | undefined;
  private collector: SegmentCollector | undefined;
  private prepared: Promise<void> | undefined;
  private masterWritten = false;
  private hasBeenLive = false;
  private reconnects = 0;
  private restartTimes: number[] = [];
  private transcoderRestarts = 0;
  private earlierBytesIn = 0;
  private progress: TranscoderProgress | undefined;
  private readonly warnings = new Set<string>();
  private backlogWarned = false;
  private bytesSamples: number[] = [];
  private probeTimer: NodeJS.Timeout | undefined;
  private firstMediaTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly watchdog: NodeJS.Timeout;
  private stopping: Promise<void> | undefined;
  private persisted: Promise<void>;
  private readonly log: Logger;

  constructor(private readonly deps: LiveSessionDeps) {
    this.id = deps.id;
    this.stream = deps.stream;
    this.startedAt = deps.now();
    this.log = deps.logger.child({ session: deps.id, playbackId: deps.stream.playbackId });
    this.persisted = deps.store
      .insert(this.initialRecord())
      .catch((error: unknown) => this.log.error({ err: error }, 'cannot record the session'));
    this.watchdog = setInterval(() => this.guarded(() => this.tick()), WATCHDOG_MS);
    this.watchdog.unref();
  }

  get state(): SessionState {
    return this.currentState;
  }

  get reason(): EndReason | undefined {
    return this.endReason;
  }

  /** Viewers can play it: it went live, and its publisher is there or may come back. */
  get viewable(): boolean {
    return this.hasBeenLive && (this.currentState === 'live' || this.currentState === 'reconnecting');
  }

  /** authorizing → starting: the publisher was told it is live and its media now flows here. */
  begin(publisher: Publisher): void {
    if (this.currentState !== 'authorizing') throw new Error(`begin() in state ${this.currentState}`);
    this.attach(publisher);
    this.setState('starting');
  }

  /**
   * The stream's key published again: after a drop (reconnecting), or while the old connection is
   * still open but silent (a half-open connection the publisher already gave up on).
   */
  canResume(now: number): boolean {
    if (this.currentState === 'reconnecting') return true;
    if (this.currentState !== 'starting' && this.currentState !== 'live') return false;
    return this.feed !== undefined && now - this.feed.publisher.lastDataAt >= this.deps.settings.takeoverIdleMs;
  }

  resume(publisher: Publisher): void {
    clearTimeout(this.reconnectTimer);
    const previous = this.feed;
    if (previous) {
      this.log.info({ client: previous.publisher.clientAddress }, 'a new publish takes over from a silent connection');
      this.detach(previous);
      previous.publisher.disconnect();
    }
    this.reconnects += 1;
    this.attach(publisher);
    this.setState(this.hasBeenLive ? 'live' : 'starting');
    this.persist({ clientAddress: publisher.clientAddress, reconnects: this.reconnects });
  }

  stop(reason: EndReason): Promise<void> {
    this.stopping ??= this.shutDown(reason);
    return this.stopping;
  }

  /** Resolves once the session has ended; immediately if it is not ending. */
  whenEnded(): Promise<void> {
    return this.stopping ?? Promise.resolve();
  }

  /**
   * Where the session's newest picture is, for a poster: the newest segment of the smallest video
   * rendition at least as tall as the poster (the cheapest to decode), else of the tallest.
   */
  posterSource(): PosterSource | undefined {
    const { plan, collector } = this;
    if (!plan?.poster || !collector) return undefined;
    const poster = plan.poster;
    const byHeight = [...plan.video].sort((a, b) => a.height - b.height);
    const rendition = byHeight.find((video) => video.height >= poster.height) ?? byHeight.at(-1);
    const segment = rendition && collector.newestSegment(rendition.name);
    return segment ? { segment, ...poster } : undefined;
  }

  info(): LiveSessionInfo {
    const source = this.feed?.source ?? this.lastSource;
    const measured = this.bytesSamples.length > 1 ? ((this.bytesSamples[this.bytesSamples.length - 1]! - this.bytesSamples[0]!) * 8) / (this.bytesSamples.length - 1) / 1000 : undefined;
    const keyframeMs = this.feed?.keyframeIntervalMs;
    return {
      id: this.id,
      state: this.currentState,
      startedAt: this.startedAt,
      ...(this.feed && { clientAddress: this.feed.publisher.clientAddress }),
      profile: this.stream.profile,
      recorded: this.stream.record,
      reconnects: this.reconnects,
      transcoderRestarts: this.transcoderRestarts,
      ingest: {
        ...(source?.video && {
          video: { codec: source.video.codec, width: source.video.width, height: source.video.height, ...(source.video.frameRate !== undefined && { frameRate: source.video.frameRate }) },
        }),
        ...(source?.audio && {
          audio: { codec: source.audio.codec, ...(source.audio.sampleRate !== undefined && { sampleRate: source.audio.sampleRate }), ...(source.audio.channels !== undefined && { channels: source.audio.channels }) },
        }),
        ...(measured !== undefined && { bitrateKbps: Math.round(measured) }),
        ...(keyframeMs !== undefined && { keyframeIntervalSeconds: keyframeMs / 1000 }),
        bytesIn: this.bytesIn(),
      },
      renditions: this.plan
        ? [
            ...this.plan.video.map((v) => ({
              name: v.name,
              kind: 'video' as const,
              mode: v.mode,
              width: v.width,
              height: v.height,
              ...(v.mode === 'encode' && { bitrateKbps: v.videoBitrateKbps }),
            })),
            ...this.plan.audio.map((a) => ({ name: a.name, kind: 'audio' as const, mode: a.mode, bitrateKbps: a.bitrateKbps })),
          ]
        : [],
      ...(this.progress && { transcoder: this.progress }),
      warnings: [...this.warnings],
    };
  }

  private attach(publisher: Publisher): void {
    const feed = new PublisherFeed(publisher);
    this.feed = feed;
    publisher.listen({
      media: (tag) => this.guarded(() => this.onMedia(feed, tag)),
      close: (why) => this.guarded(() => this.onPublisherClose(feed, why)),
    });
    clearTimeout(this.firstMediaTimer);
    this.firstMediaTimer = setTimeout(
      () =>
        this.guarded(() => {
          if (this.feed === feed && feed.probe) {
            this.log.warn('the publisher sent no usable media in time');
            void this.stop('no_media');
          }
        }),
      this.deps.settings.firstMediaTimeoutMs,
    );
  }

  /**
   * This publisher's media no longer counts; its run (if any) finishes what it has. `why` is given
   * when the stream lost its publisher (not when another one took over).
   */
  private detach(feed: PublisherFeed, why?: string): void {
    if (this.feed !== feed) return;
    this.feed = undefined;
    this.earlierBytesIn += feed.publisher.bytesIn;
    if (this.run?.feed === feed) this.run.transcoder.endInput();
    if (why !== undefined) this.deps.onPublisherGone(this, why);
  }

  private onMedia(feed: PublisherFeed, tag: MediaTag): void {
    if (feed !== this.feed || this.isEnding()) return;
    feed.noteArrival(tag, this.deps.now());
    if (feed.probe) {
      feed.probe.push(tag, this.deps.now());
      this.checkProbe(feed);
      return;
    }
    const isHeader = feed.observe(tag);
    this.checkKeyframeInterval(feed);
    const run = this.run;
    if (run?.feed !== feed || !feed.admits(tag, isHeader)) return;
    if (!isHeader) run.mediaStartsAt ??= feed.capturedAt(tag.timestamp, this.deps.now());
    run.transcoder.write(tag.bytes, feed.nearKeyframe(tag, KEYFRAME_UNBATCHED_MS));
  }

  private checkProbe(feed: PublisherFeed): void {
    const probe = feed.probe;
    if (!probe || feed !== this.feed || this.isEnding()) return;
    const now = this.deps.now();
    const outcome = probe.outcome(now);
    clearTimeout(this.probeTimer);
    if (!outcome.ready) {
      const at = probe.nextCheckAt(now);
      if (at !== undefined) this.probeTimer = setTimeout(() => this.guarded(() => this.checkProbe(feed)), Math.max(0, at - now));
      return;
    }
    clearTimeout(this.firstMediaTimer);
    if ('error' in outcome) {
      this.log.warn({ reason: outcome.error }, `cannot transcode this source: ${outcome.message}`);
      void this.stop(outcome.error as EndReason);
      return;
    }
    const result = outcome.result;
    feed.known(result);
    this.lastSource = result.source;
    if (!this.plan) {
      this.startOutput(result.source);
    } else if (this.plan.video.length > 0 && !result.source.video) {
      this.log.warn('the publisher came back without video; the session cannot continue its renditions');
      void this.stop('source_changed');
      return;
    }
    this.startRun(feed, result.media, result.firstTimestamp);
  }

  /** First known source: the plan, the session folder, and the collector that publishes playlists. */
  private startOutput(source: SourceInfo): void {
    const { settings, stream, files } = this.deps;
    const plan = planLadder(source, { profile: this.deps.profile, audioBitrateKbps: settings.audioBitrateKbps });
    this.plan = plan;
    const names = renditionNames(plan);
    const collector = new SegmentCollector({
      sessionDir: files.layout.sessionDir(stream.playbackId, this.id),
      renditions: names,
      listSize: settings.listSize,
      segmentSeconds: settings.segmentSeconds,
      record: stream.record,
      now: this.deps.now,
      onSegment: () => this.guarded(() => this.onSegment()),
      onError: (error) => this.log.warn({ err: error }, 'cannot update the playlists'),
    });
    this.collector = collector;
    this.prepared = files.prepareSession(stream.playbackId, this.id, names).then(() => {
      if (!this.isEnding()) collector.start();
    });
    this.log.info(
      { source, renditions: names },
      `transcoding ${plan.video.map((r) => `${r.name} ${r.width}x${r.height} (${r.mode})`).join(', ') || 'audio only'}`,
    );
    this.persist({
      videoCodec: source.video?.codec ?? null,
      audioCodec: source.audio?.codec ?? null,
      width: source.video?.width ?? null,
      height: source.video?.height ?? null,
      frameRate: source.video?.frameRate ?? null,
    });
  }

  /** A new run for this publisher. It starts once the previous run has exited. */
  private startRun(feed: PublisherFeed, media: Buffer[], firstTimestamp?: number): void {
    const source = feed.source!;
    const previous = this.run;
    const run: Run = { feed, ...this.runOutput(source), producedSegment: false };
    const { transcoder } = run;
    if (firstTimestamp !== undefined) run.mediaStartsAt = feed.capturedAt(firstTimestamp, this.deps.now());
    this.run = run;
    this.transcoders.add(transcoder);
    void transcoder.exited.then(() => this.transcoders.delete(transcoder));
    transcoder.write(flvHeader(source.audio !== undefined, source.video !== undefined));
    for (const tag of feed.headerTags()) transcoder.write(tag);
    for (const tag of media) transcoder.write(tag);
    void transcoder.exited.then((exit) => this.guarded(() => this.onRunExit(run, exit)));
    void this.launch(run, previous).catch((error: unknown) => {
      this.log.error({ err: error }, 'cannot start the transcoder');
      void this.stop('transcoder_failed');
    });
  }

  /**
   * A plan that only copies H.264 and AAC is remuxed in this process: a process per stream cost
   * more than twice what nginx-rtmp spends on the same copy (docs/benchmarks.md). Anything that
   * decodes or encodes runs in ffmpeg.
   */
  private runOutput(source: SourceInfo): Pick<Run, 'transcoder' | 'start'> {
    if (remuxable(this.plan!, source)) {
      const collector = this.collector!;
      const remuxer = new Remuxer({ logger: this.log, onSegment: (rendition, segment) => collector.add(rendition, segment) });
      return { transcoder: remuxer, start: (job) => remuxer.start(job) };
    }
    const transcoder = new Transcoder({
      ffmpegPath: this.deps.ffmpegPath,
      logger: this.log,
      stopGraceMs: this.deps.settings.stopGraceMs,
      onProgress: (progress) => (this.progress = progress),
      // A pipe write per tag wakes ffmpeg and this process ~80 times a second: batches make a
      // copying ffmpeg a quarter cheaper or more, and cut the ladder's overhead over bare ffmpeg
      // (docs/benchmarks.md). Audio alone is cut into segments by time, not at keyframes:
      // it gets its input as it comes.
      ...(source.video !== undefined && { inputBatchMs: INPUT_BATCH_MS }),
    });
    return { transcoder, start: (job) => transcoder.start(buildFfmpegArgs(job)) };
  }

  private async launch(run: Run, previous: Run | undefined): Promise<void> {
    if (previous) await this.retire(previous);
    await this.prepared;
    const collector = this.collector!;
    await collector.collectAll();
    if (this.run !== run || this.isEnding()) {
      await run.transcoder.stop();
      return;
    }
    collector.beginRun(() => run.mediaStartsAt);
    const { settings, stream, files } = this.deps;
    const source = run.feed.source!;
    const plan = this.plan!;
    run.startedAt = this.deps.now();
    run.start({
      plan,
      outputDir: files.layout.sessionDir(stream.playbackId, this.id),
      preset: settings.preset,
      segmentSeconds: settings.segmentSeconds,
      startNumber: collector.nextStartNumber(),
      input: { hasVideo: source.video !== undefined, hasAudio: source.audio !== undefined },
    });
  }

  /** Lets a run finish its input, within the grace period; then stops it. */
  private async retire(run: Run): Promise<void> {
    run.transcoder.endInput();
    if (!(await settledWithin(run.transcoder.exited, this.deps.settings.stopGraceMs))) await run.transcoder.stop();
  }

  private onRunExit(run: Run, exit: TranscoderExit): void {
    this.deps.metrics.transcoderExits.inc({ kind: exit.expected ? 'expected' : 'failed' });
    if (run !== this.run || this.isEnding() || exit.expected) return;
    this.log.error({ code: exit.code, signal: exit.signal, stderr: exit.stderrTail.slice(-8), spawnError: exit.spawnError }, 'the transcoder exited unexpectedly');
    if (this.feed === run.feed) this.restart('crashed');
  }

  /** A crashed or stalled ffmpeg is replaced within the session, a bounded number of times. */
  private restart(why: 'crashed' | 'stalled'): void {
    const { settings, metrics } = this.deps;
    const now = this.deps.now();
    this.restartTimes = this.restartTimes.filter((at) => now - at < settings.restartWindowMs);
    if (this.restartTimes.length >= settings.maxRestarts) {
      this.log.error({ restarts: this.restartTimes.length }, `the transcoder ${why} again; too many restarts, ending the session`);
      void this.stop('transcoder_failed');
      return;
    }
    this.restartTimes.push(now);
    this.transcoderRestarts += 1;
    metrics.transcoderRestarts.inc({ reason: why });
    const feed = this.feed;
    const old = this.run;
    if (!feed?.source) return;
    this.log.warn({ why, restart: this.transcoderRestarts }, 'restarting the transcoder');
    if (why === 'stalled' && old) void old.transcoder.stop(1000);
    feed.waitForKeyframe = feed.source.video !== undefined;
    this.startRun(feed, []);
    this.persist({ transcoderRestarts: this.transcoderRestarts });
  }

  private onSegment(): void {
    const run = this.run;
    if (run) {
      run.producedSegment = true;
      run.lastSegmentAt = this.deps.now();
    }
    const plan = this.plan;
    if (!plan || this.masterWritten || this.collector!.renditionsWithSegments < renditionNames(plan).length) return;
    this.masterWritten = true;
    void this.publishMasters(plan).catch((error: unknown) => {
      this.log.error({ err: error }, 'cannot write the master playlist');
      void this.stop('transcoder_failed');
    });
  }

  /** Every rendition has a segment: the stream's master can point at them, and the stream is live. */
  private async publishMasters(plan: LadderPlan): Promise<void> {
    const { files, stream } = this.deps;
    const measuredKbps: Record<string, number> = {};
    for (const rendition of [...plan.video, ...plan.audio]) {
      if (rendition.mode !== 'copy') continue;
      const kbps = await this.collector!.measuredKbps(rendition.name);
      if (kbps !== undefined) measuredKbps[rendition.name] = Math.round(kbps);
    }
    await files.writeStreamMaster(stream.playbackId, buildMasterPlaylist(plan, { uriPrefix: sessionUriPrefix(this.id), playlist: 'index.m3u8', measuredKbps }));
    if (stream.record) {
      await files.writeSessionMaster(stream.playbackId, this.id, buildMasterPlaylist(plan, { uriPrefix: '', playlist: 'recording.m3u8', measuredKbps }));
    }
    if (this.currentState === 'starting') {
      this.hasBeenLive = true;
      this.log.info('stream is live');
      this.setState('live');
    }
  }

  private onPublisherClose(feed: PublisherFeed, why: PublisherCloseReason): void {
    if (feed !== this.feed) return;
    this.detach(feed, why);
    if (this.isEnding()) return;
    const windowMs = this.stream.reconnectWindowSeconds !== null ? this.stream.reconnectWindowSeconds * 1000 : this.deps.settings.reconnectWindowMs;
    // OBS and ffmpeg say when they stop on purpose (deleteStream); a drop does not.
    if (why === 'unpublished' || windowMs === 0) {
      this.log.info({ why }, 'publisher stopped');
      void this.stop('publisher_left');
      return;
    }
    this.log.info({ why, windowSeconds: windowMs / 1000 }, 'publisher dropped; waiting for it to come back');
    this.setState('reconnecting');
    this.reconnectTimer = setTimeout(() => void this.stop('reconnect_window_expired'), windowMs);
  }

  /** Once a second: ingest bitrate, transcoder back-pressure, and the stall watchdog. */
  private tick(): void {
    if (this.isEnding()) return;
    const { settings, metrics } = this.deps;
    this.bytesSamples.push(this.bytesIn());
    if (this.bytesSamples.length > BITRATE_WINDOW_SAMPLES + 1) this.bytesSamples.shift();

    const run = this.run;
    const feed = this.feed;
    if (!run?.startedAt || !feed || run.feed !== feed) return;
    const now = this.deps.now();

    const backlog = run.transcoder.backlogBytes;
    if (backlog > settings.backlogMaxBytes) {
      metrics.transcoderBacklog.inc({ outcome: 'ended' });
      this.log.error({ backlogBytes: backlog }, 'the transcoder cannot keep up with the input; ending the session');
      void this.stop('transcoder_overloaded');
      return;
    }
    if (backlog > settings.backlogWarnBytes && !this.backlogWarned) {
      this.backlogWarned = true;
      metrics.transcoderBacklog.inc({ outcome: 'warned' });
      this.log.warn({ backlogBytes: backlog }, 'the transcoder is falling behind the input');
    } else if (backlog < settings.backlogWarnBytes / 2) {
      this.backlogWarned = false;
    }

    if (now - feed.publisher.lastDataAt > PUBLISHER_SILENT_MS) return;
    const segmentMs = Math.max(settings.segmentSeconds * 1000, feed.keyframeIntervalMs ?? 0);
    const limit = settings.stallSegments * segmentMs + (run.producedSegment ? 0 : settings.startupGraceMs);
    if (now - (run.lastSegmentAt ?? run.startedAt) > limit) {
      metrics.transcoderStalls.inc();
      this.log.warn({ silentMs: now - (run.lastSegmentAt ?? run.startedAt) }, 'no new segment from the transcoder: it is stalled');
      this.restart('stalled');
    }
  }

  private checkKeyframeInterval(feed: PublisherFeed): void {
    const interval = feed.keyframeIntervalMs;
    const segmentMs = this.deps.settings.segmentSeconds * 1000;
    // FLV timestamps are whole milliseconds: allow a frame's worth of rounding.
    if (interval === undefined || interval <= segmentMs + 50 || this.warnings.has('keyframe_interval_too_long')) return;
    this.warnings.add('keyframe_interval_too_long');
    this.deps.metrics.sourceWarnings.inc({ warning: 'keyframe_interval_too_long' });
    this.log.warn(
      { keyframeIntervalSeconds: interval / 1000, segmentSeconds: this.deps.settings.segmentSeconds },
      'the source sends keyframes less often than the segment duration: copied renditions get longer segments (set the encoder keyframe interval to the segment duration)',
    );
  }

  /** Never throws: whatever fails on the way out is logged, and the session still ends. */
  private async shutDown(reason: EndReason): Promise<void> {
    this.endReason = reason;
    try {
      this.setState('ending');
      clearInterval(this.watchdog);
      clearTimeout(this.probeTimer);
      clearTimeout(this.firstMediaTimer);
      clearTimeout(this.reconnectTimer);
      const feed = this.feed;
      if (feed) {
        this.detach(feed, reason);
        feed.publisher.disconnect();
      }
      // A publisher that left gets its last segment finished; anything else stops ffmpeg now.
      await Promise.all(
        [...this.transcoders].map(async (transcoder) => {
          const drained = reason === 'publisher_left' && (await settledWithin(transcoder.exited, this.deps.settings.stopGraceMs));
          if (!drained) await transcoder.stop();
        }),
      );
      await this.prepared;
      await this.collector?.finish();
      const poster = this.posterSource();
      if (poster && reason !== 'shutdown') await this.deps.posters.keepLast(this.stream.playbackId, poster);
    } catch (error) {
      this.log.error({ err: error }, 'error while ending the session');
    }
    this.persist({ state: 'ended', endedAt: this.deps.now(), endReason: reason, bytesIn: this.bytesIn() });
    await settledWithin(this.persisted, 5000);
    this.log.info({ reason }, 'session ended');
    this.setState('ended');
  }


  private bytesIn(): number {
    return this.earlierBytesIn + (this.feed?.publisher.bytesIn ?? 0);
  }

  private initialRecord(): SessionRecord {
    return {
      id: this.id,
      streamId: this.stream.id,
      node: this.deps.node,
      state: this.currentState,
      clientAddress: null,
      startedAt: this.startedAt,
      endedAt: null,
      endReason: null,
      bytesIn: 0,
      videoCodec: null,
      audioCodec: null,
      width: null,
      height: null,
      frameRate: null,
      profile: this.stream.profile,
      recorded: this.stream.record,
      reconnects: 0,
      transcoderRestarts: 0,
    };
  }

  /** Database writes never hold up media; they are queued in order and failures are logged. */
  private persist(patch: Partial<SessionRecord>): void {
    this.persisted = this.persisted
      .then(() => this.deps.store.update(this.id, patch))
      .catch((error: unknown) => this.log.error({ err: error }, 'cannot update the session record'));
  }

  /**
   * Every way into the session from outside (media, socket close, timers, ffmpeg exits) goes
   * through here: an error in one session ends that session, with its reason, and nothing else.
   */
  private guarded(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.deps.metrics.uncaughtErrors.inc();
      this.log.error({ err: error }, 'unexpected error in the session; ending it');
      void this.stop('internal_error');
    }
  }

  private isEnding(): boolean {
    return this.currentState === 'ending' || this.currentState === 'ended';
  }

  private setState(state: SessionState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    if (state !== 'ended') this.persist({ state });
    this.deps.onStateChange(this, state);
  }
}

function settledWithin<T>(promise: Promise<T>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}
