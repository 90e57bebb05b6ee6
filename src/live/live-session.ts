import type { MediaTag } from '../ingest/media';
import type { Publisher, PublisherCloseReason } from '../ingest/publisher';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { PosterSource } from '../packaging/posters';
import type { StreamRecord } from '../streams/stream-repository';
import { unplayableProfile, type SourceInfo } from '../transcode/ladder';
import { PublisherFeed, type TrackChange } from './publisher-feed';
import { SessionJournal } from './session-journal';
import type { DestinationRecord } from '../restream/destination-repository';
import type { Restream } from '../restream/restream';
import type { OutputEvents, OutputSettings, SessionMedia } from './session-output';
import type { SessionRecord, SessionRepository } from './session-repository';
import { sessionView, type LiveSessionInfo } from './session-view';
import { SessionWatchdog, type WatchdogSettings } from './session-watchdog';

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
  | 'transcoder_failed'
  | 'transcoder_overloaded'
  | 'internal_error'
  | 'lease_lost'
  | 'node_draining'
  | 'shutdown';

/**
 * Ways out after which the session goes on elsewhere: its playlists are not ended and its row stays
 * open, for the node its publisher reconnects to.
 */
const HANDOVERS: ReadonlySet<EndReason> = new Set(['node_draining']);

export interface SessionSettings extends OutputSettings, WatchdogSettings {
  firstMediaTimeoutMs: number;
  reconnectWindowMs: number;
  takeoverIdleMs: number;
}

export interface LiveSessionDeps {
  id: string;
  stream: StreamRecord;
  /**
   * Another node's session of this stream, left open when that node died or gave the stream up:
   * this one continues it (same id, same row, its playlists' sequence numbers going on).
   */
  takeover?: SessionRecord;
  /**
   * The database is shared with other nodes (MySQL), which may take the session over: where its
   * playlists stand is recorded at every segment. On SQLite nobody else can, and each write would
   * hold the event loop.
   */
  recordsPosition?: boolean;
  node: string;
  settings: SessionSettings;
  /** What becomes of the media (SessionOutput), told where to report. */
  createOutput: (events: OutputEvents) => SessionMedia;
  store: Pick<SessionRepository, 'insert' | 'update' | 'adopt'>;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  onStateChange: (session: LiveSession, state: SessionState) => void;
  /** The publisher's connection ended (dropped, stopped, or cut off by the origin). */
  onPublisherGone: (session: LiveSession, why: string) => void;
  /** Copies of the stream to other platforms (src/restream/), begun once the source is known. */
  createRestream?: (session: LiveSession) => Restream;
}

/** Around a keyframe ffmpeg's input is written as it comes: it cuts there, once a later audio packet has arrived. */
const KEYFRAME_UNBATCHED_MS = 200;
/** How long ending may wait for the session's row to be written. */
const JOURNAL_WAIT_MS = 5000;
/** Media time one track may go on without the other before that one counts as missing. */
const TRACK_MISSING_MS = 3000;

/**
 * One publish of one stream, from the accepted publish command to the end of its playlists:
 *
 *   authorizing → starting → live ⇄ reconnecting → ending → ended
 *
 * This class is the state machine; what becomes of the media is SessionOutput's, the database row
 * SessionJournal's, the checks every second SessionWatchdog's, and the API's view sessionView's.
 * A session outlives its publisher for the reconnect window and its runs: a publisher that comes
 * back, a publish that takes over a half-open connection, a transcoder restarted after a crash
 * or stall, a change in the publisher's tracks or a move to cheaper encoding each start a new run
 * that continues the same playlists. Every way out goes through
 * stop(reason), which is idempotent.
 */
export class LiveSession {
  readonly id: string;
  readonly stream: StreamRecord;
  readonly startedAt: number;
  private currentState: SessionState = 'authorizing';
  private endReason: EndReason | undefined;
  private feed: PublisherFeed | undefined;
  /** The source of the current (or last) publisher. */
  private lastSource: SourceInfo | undefined;
  private hasBeenLive = false;
  private reconnects = 0;
  private earlierBytesIn = 0;
  private readonly warnings = new Set<string>();
  private probeTimer: NodeJS.Timeout | undefined;
  private firstMediaTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private restream: Restream | undefined;
  private readonly output: SessionMedia;
  private readonly watchdog: SessionWatchdog;
  private readonly journal: SessionJournal;
  private readonly log: Logger;

  constructor(private readonly deps: LiveSessionDeps) {
    const { takeover } = deps;
    this.id = takeover?.id ?? deps.id;
    this.stream = deps.stream;
    this.startedAt = takeover?.startedAt ?? deps.now();
    this.reconnects = takeover ? takeover.reconnects + 1 : 0;
    const log = (this.log = deps.logger.child({ session: this.id, playbackId: deps.stream.playbackId }));
    if (takeover) log.info({ from: takeover.node, lastMsn: takeover.lastMsn }, 'continuing a session another node began');
    const guard = (work: () => void) => this.guarded(work);
    this.output = deps.createOutput({
      sessionId: this.id,
      log,
      onLive: () => this.wentLive(),
      onFailed: () => void this.stop('transcoder_failed'),
      onRestart: (restarts) => this.journal.update({ transcoderRestarts: restarts }),
      onPosition: (lastMsn, discontinuities) => {
        if (deps.recordsPosition) this.journal.update({ lastMsn, discontinuities });
      },
      guard,
    });
    this.watchdog = new SessionWatchdog(
      deps.settings,
      {
        bytesIn: () => this.bytesIn(),
        run: () => this.output.watched(),
        publisherLastDataAt: () => this.feed?.publisher.lastDataAt,
        keyframeIntervalMs: () => this.feed?.keyframeIntervalMs,
      },
      {
        overloaded: (backlogBytes) => {
          log.error({ backlogBytes }, 'the transcoder cannot keep up with the input; ending the session');
          void this.stop('transcoder_overloaded');
        },
        stalled: (silentMs) => {
          log.warn({ silentMs }, 'no new output from the transcoder: it is stalled');
          this.output.restart('stalled');
        },
        slow: (speed) => this.onSlowTranscoder(speed),
      },
      { metrics: deps.metrics, log, now: deps.now, guard },
    );
    this.journal = new SessionJournal(
      deps.store,
      {
        id: this.id,
        streamId: deps.stream.id,
        node: deps.node,
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
        profile: deps.stream.profile,
        recorded: deps.stream.record,
        reconnects: this.reconnects,
        transcoderRestarts: takeover?.transcoderRestarts ?? 0,
        lastMsn: takeover?.lastMsn ?? null,
        discontinuities: takeover?.discontinuities ?? 0,
      },
      log,
      takeover !== undefined,
    );
    this.watchdog.start();
  }

  get state(): SessionState {
    return this.currentState;
  }

  get reason(): EndReason | undefined {
    return this.endReason;
  }

  /** It continues a session another node began. */
  get continued(): boolean {
    return this.deps.takeover !== undefined;
  }

  /** It ended to go on elsewhere. */
  get handedOver(): boolean {
    return this.endReason !== undefined && HANDOVERS.has(this.endReason);
  }

  /** Viewers can play it: it went live, and its publisher is there or may come back. */
  get viewable(): boolean {
    return this.hasBeenLive && (this.currentState === 'live' || this.currentState === 'reconnecting');
  }

  /** authorizing → starting: the publisher was told it is live and its media now flows here. */
  begin(publisher: Publisher): void {
    if (this.currentState !== 'authorizing') throw new Error(`begin() in state ${this.currentState}`);
    this.attach(publisher);
    this.journal.update({ clientAddress: publisher.clientAddress });
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
    this.journal.update({ clientAddress: publisher.clientAddress, reconnects: this.reconnects });
  }

  stop(reason: EndReason): Promise<void> {
    this.stopping ??= this.shutDown(reason);
    return this.stopping;
  }

  /** Resolves once the session has ended; immediately if it is not ending. */
  whenEnded(): Promise<void> {
    return this.stopping ?? Promise.resolve();
  }

  posterSource(): PosterSource | undefined {
    return this.output.posterSource();
  }

  /** Each restream destination's status, for the metrics. */
  restreamStatuses(): string[] {
    return this.restream?.statuses() ?? [];
  }

  /** The stream's destinations changed here: pushes start or stop now. */
  reloadRestream(): Promise<void> {
    return this.restream?.reload() ?? Promise.resolve();
  }

  /** The stream's destinations as the stream watch read them. */
  applyRestream(destinations: DestinationRecord[]): void {
    this.restream?.apply(destinations);
  }

  info(): LiveSessionInfo {
    return sessionView({
      id: this.id,
      node: this.deps.node,
      state: this.currentState,
      startedAt: this.startedAt,
      clientAddress: this.feed?.publisher.clientAddress,
      profile: this.stream.profile,
      latencyMode: this.stream.latencyMode,
      recorded: this.stream.record,
      reconnects: this.reconnects,
      transcoderRestarts: this.output.transcoderRestarts,
      source: this.feed?.source ?? this.lastSource,
      bitrateKbps: this.watchdog.bitrateKbps,
      keyframeIntervalMs: this.feed?.keyframeIntervalMs,
      bytesIn: this.bytesIn(),
      plan: this.output.plan,
      progress: this.output.progress,
      warnings: this.warnings,
    });
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
    this.output.endInput(feed);
    if (why !== undefined) this.deps.onPublisherGone(this, why);
  }

  private onMedia(feed: PublisherFeed, tag: MediaTag): void {
    if (feed !== this.feed || this.isEnding()) return;
    const now = this.deps.now();
    feed.noteArrival(tag, now);
    if (feed.probe) {
      feed.probe.push(tag, now);
      this.checkProbe(feed);
      return;
    }
    const isHeader = feed.observe(tag);
    this.restream?.write(tag);
    const change = feed.trackChange(tag, TRACK_MISSING_MS);
    if (change) {
      this.onTrackChange(feed, change, tag);
      return;
    }
    this.checkKeyframeInterval(feed);
    if (!feed.admits(tag, isHeader)) return;
    this.output.write(feed, tag, isHeader || feed.nearKeyframe(tag, KEYFRAME_UNBATCHED_MS));
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
    const { result } = outcome;
    feed.known(result);
    this.restream ??= this.deps.createRestream?.(this);
    this.restream?.begin({ headers: feed.headerTags(), hasAudio: result.source.audio !== undefined, hasVideo: result.source.video !== undefined }, result.source.video?.codec);
    for (const tag of result.media) this.restream?.write(tag);
    this.lastSource = result.source;
    this.checkPlayable(result.source);
    const plan = this.output.plan;
    if (!plan) {
      this.output.prepare(result.source);
      this.recordTracks(result.source, ['video', 'audio']);
    } else {
      // A publisher that came back with other tracks than the session's plan was made for.
      const { video, audio } = result.source;
      const changes: TrackChange[] = [
        ...(video && plan.video.length === 0 ? [{ track: 'video' as const, change: 'appeared' as const }] : []),
        ...(audio && plan.audio.length === 0 ? [{ track: 'audio' as const, change: 'appeared' as const }] : []),
        ...(!video && plan.video.length > 0 ? [{ track: 'video' as const, change: 'missing' as const }] : []),
        ...(!audio && plan.audio.length > 0 ? [{ track: 'audio' as const, change: 'missing' as const }] : []),
      ];
      for (const change of changes) this.sayTrackChange(change, result.source);
    }
    this.output.startRun(feed, result.media);
  }

  /** Every rendition has a segment: starting → live. */
  private wentLive(): void {
    if (this.currentState !== 'starting') return;
    this.hasBeenLive = true;
    this.log.info('stream is live');
    this.setState('live');
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

  /**
   * The publisher began sending a track its run lacks, or stopped sending one: said in the session's
   * warnings, the metrics and the log, and a new run starts for the tracks it sends now. A track
   * new to the session adds its renditions; a missing audio track is replaced by silence; while
   * video is missing the video renditions wait and the audio goes on.
   */
  private onTrackChange(feed: PublisherFeed, change: TrackChange, tag: MediaTag): void {
    const source = feed.changeTracks(change, tag);
    this.lastSource = source;
    this.sayTrackChange(change, source);
    // A run with video starts at a keyframe: this one, if it is one; otherwise the next.
    const startsHere = (tag.kind === 'video' && tag.keyframe) || source.video === undefined;
    this.output.startRun(feed, startsHere ? [tag] : []);
  }

  /**
   * ffmpeg has been slower than real time for a while: viewers fall further behind every second.
   * First its encoding is made cheaper (same renditions); if that is still too slow, the session
   * ends with a reason the streamer can act on (a smaller source, or fewer rungs).
   */
  private onSlowTranscoder(speed: number): void {
    this.warnings.add('transcoder_slow');
    if (!this.output.economy) {
      this.deps.metrics.transcoderSlow.inc({ action: 'economy' });
      this.log.warn({ speed }, `the transcoder runs at ${speed}x real time; encoding with x264's fastest preset and at most 30 fps from now on`);
      this.output.economize();
      return;
    }
    this.deps.metrics.transcoderSlow.inc({ action: 'ended' });
    this.log.error(
      { speed },
      `the transcoder still runs at ${speed}x real time with its cheapest encoding; ending the session (send a smaller source, or use a profile with fewer rungs)`,
    );
    void this.stop('transcoder_overloaded');
  }

  /**
   * H.264 that most players cannot decode (10-bit, 4:2:2, 4:4:4): the ladder encodes its top
   * rendition instead of copying it (ladder.ts); passthrough copies it as it is, since the operator
   * chose no encoding, and says so.
   */
  private checkPlayable(source: SourceInfo): void {
    const profile = source.video && unplayableProfile(source.video);
    if (!profile || this.warnings.has('source_not_widely_playable')) return;
    this.warnings.add('source_not_widely_playable');
    this.deps.metrics.sourceWarnings.inc({ warning: 'source_not_widely_playable' });
    this.log.warn(
      { profile },
      this.stream.profile === 'passthrough'
        ? `the source is H.264 ${profile}, which Safari, iOS and most hardware decoders cannot play; passthrough copies it as it is (use a ladder profile to encode it to 8-bit 4:2:0)`
        : `the source is H.264 ${profile}, which Safari, iOS and most hardware decoders cannot play; its top rendition is encoded to 8-bit 4:2:0 instead of copied`,
    );
  }

  /** In the session's warnings, the metrics and the log; a track new to the session goes in its row too. */
  private sayTrackChange(change: TrackChange, source: SourceInfo): void {
    const warning = `${change.track}_track_${change.change}`;
    this.warnings.add(warning);
    this.deps.metrics.sourceWarnings.inc({ warning });
    this.log.warn(
      { warning, source },
      change.change === 'appeared'
        ? `the publisher began sending ${change.track}; its renditions start with it`
        : `the publisher stopped sending ${change.track}; going on without it until it comes back`,
    );
    if (change.change === 'appeared') this.recordTracks(source, [change.track]);
  }

  /** The source's facts about these tracks, in the session's row. */
  private recordTracks(source: SourceInfo, tracks: ReadonlyArray<'video' | 'audio'>): void {
    const { video, audio } = source;
    this.journal.update({
      ...(tracks.includes('video') && { videoCodec: video?.codec ?? null, width: video?.width ?? null, height: video?.height ?? null, frameRate: video?.frameRate ?? null }),
      ...(tracks.includes('audio') && { audioCodec: audio?.codec ?? null }),
    });
  }

  /**
   * Said only where it shows: renditions cut at the source's keyframes (a copied source, and the
   * rungs encoded beside it). Encoded alone, the rungs get keyframes every segment from ffmpeg.
   */
  private checkKeyframeInterval(feed: PublisherFeed): void {
    if (this.output.plan?.keyframes !== 'source') return;
    const interval = feed.sustainedKeyframeIntervalMs;
    const segmentMs = this.deps.settings.segmentSeconds * 1000;
    // FLV timestamps are whole milliseconds: allow a frame's worth of rounding.
    if (interval === undefined || interval <= segmentMs + 50 || this.warnings.has('keyframe_interval_too_long')) return;
    this.warnings.add('keyframe_interval_too_long');
    this.deps.metrics.sourceWarnings.inc({ warning: 'keyframe_interval_too_long' });
    this.log.warn(
      { keyframeIntervalSeconds: interval / 1000, segmentSeconds: this.deps.settings.segmentSeconds },
      'the source sends keyframes less often than the segment duration: its renditions are cut at its keyframes, so their segments are longer (set the encoder keyframe interval to the segment duration)',
    );
  }

  /** Never throws: whatever fails on the way out is logged, and the session still ends. */
  private async shutDown(reason: EndReason): Promise<void> {
    this.endReason = reason;
    try {
      this.setState('ending');
      this.watchdog.stop();
      clearTimeout(this.probeTimer);
      clearTimeout(this.firstMediaTimer);
      clearTimeout(this.reconnectTimer);
      const feed = this.feed;
      if (feed) {
        this.detach(feed, reason);
        feed.publisher.disconnect();
      }
      await Promise.all([this.output.finish({ drain: reason === 'publisher_left', keepPoster: reason !== 'shutdown', handover: HANDOVERS.has(reason) }), this.restream?.stop()]);
    } catch (error) {
      this.log.error({ err: error }, 'error while ending the session');
    }
    this.journal.update(
      HANDOVERS.has(reason) ? { state: 'handover', bytesIn: this.bytesIn() } : { state: 'ended', endedAt: this.deps.now(), endReason: reason, bytesIn: this.bytesIn() },
    );
    await this.journal.settled(JOURNAL_WAIT_MS);
    this.log.info({ reason }, 'session ended');
    this.setState('ended');
  }

  private bytesIn(): number {
    return this.earlierBytesIn + (this.feed?.publisher.bytesIn ?? 0);
  }

  /**
   * Every way into the session from outside (media, socket close, timers, process exits) goes
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
    if (state !== 'ended') this.journal.update({ state });
    this.deps.onStateChange(this, state);
  }
}
