import type { RungConfig } from '../config/schema';
import { flvHeader, type MediaTag } from '../ingest/media';
import type { Publisher, PublisherCloseReason } from '../ingest/publisher';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { StreamRecord } from '../streams/stream-repository';
import { buildFfmpegArgs } from '../transcode/ffmpeg-args';
import { planLadder, type LadderPlan, type SourceInfo } from '../transcode/ladder';
import { Transcoder, type TranscoderExit, type TranscoderProgress } from '../transcode/transcoder';
import { buildMasterPlaylist } from '../hls/master-playlist';
import { PlaylistWatcher, type SegmentProgress } from '../hls/playlist-watcher';
import type { StreamOutput } from '../hls/stream-output';
import { SourceProbe, type ProbeResult } from './source-probe';

export type SessionState = 'authorizing' | 'starting' | 'live' | 'reconnecting' | 'ending' | 'ended';

export type EndReason =
  | 'publisher_left'
  | 'kicked'
  | 'no_media'
  | 'unsupported_codec'
  | 'no_keyframe'
  | 'unknown_video_size'
  | 'transcoder_failed'
  | 'shutdown';

export interface SessionSettings {
  segmentSeconds: number;
  listSize: number;
  preset: string;
  ladder: readonly RungConfig[];
  audioBitrateKbps: number;
  stopGraceMs: number;
  firstMediaTimeoutMs: number;
}

export interface LiveSessionDeps {
  id: string;
  stream: StreamRecord;
  output: StreamOutput;
  settings: SessionSettings;
  ffmpegPath: string;
  logger: Logger;
  metrics: Metrics;
  now: () => number;
  onStateChange: (session: LiveSession, state: SessionState) => void;
}

export interface LiveSessionInfo {
  id: string;
  state: SessionState;
  startedAt: number;
  clientAddress?: string;
  source?: SourceInfo;
  renditions: string[];
  transcoder?: TranscoderProgress;
}

/**
 * One publish of one stream, from the accepted publish command to the end of its playlists.
 * Every way out goes through stop(reason), which is idempotent.
 */
export class LiveSession {
  readonly id: string;
  readonly stream: StreamRecord;
  readonly startedAt: number;
  private currentState: SessionState = 'authorizing';
  private endReason: EndReason | undefined;
  private publisher: Publisher | undefined;
  private clientAddress: string | undefined;
  private probe: SourceProbe | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private firstMediaTimer: NodeJS.Timeout | undefined;
  private source: SourceInfo | undefined;
  private plan: LadderPlan | undefined;
  private transcoder: Transcoder | undefined;
  private progress: TranscoderProgress | undefined;
  private watcher: PlaylistWatcher | undefined;
  private stopping: Promise<void> | undefined;
  private readonly prepared: Promise<void>;
  private readonly log: Logger;

  constructor(private readonly deps: LiveSessionDeps) {
    this.id = deps.id;
    this.stream = deps.stream;
    this.startedAt = deps.now();
    this.log = deps.logger.child({ session: deps.id, playbackId: deps.stream.playbackId });
    // Started now so that the folder is clean by the time the first keyframe has arrived.
    this.prepared = deps.output.reset([]);
    this.prepared.catch(() => undefined);
  }

  get state(): SessionState {
    return this.currentState;
  }

  get reason(): EndReason | undefined {
    return this.endReason;
  }

  info(): LiveSessionInfo {
    return {
      id: this.id,
      state: this.currentState,
      startedAt: this.startedAt,
      ...(this.clientAddress !== undefined && { clientAddress: this.clientAddress }),
      ...(this.source !== undefined && { source: this.source }),
      renditions: this.renditionNames(),
      ...(this.progress !== undefined && { transcoder: this.progress }),
    };
  }

  /** authorizing → starting: the publisher was told it is live and its media now flows here. */
  begin(publisher: Publisher): void {
    if (this.currentState !== 'authorizing') throw new Error(`begin() in state ${this.currentState}`);
    this.attach(publisher);
    this.setState('starting');
    this.firstMediaTimer = setTimeout(() => {
      if (!this.transcoder) void this.stop('no_media');
    }, this.deps.settings.firstMediaTimeoutMs);
  }

  stop(reason: EndReason): Promise<void> {
    this.stopping ??= this.shutDown(reason);
    return this.stopping;
  }

  /** Resolves once the session has ended; immediately if it is not ending. */
  whenEnded(): Promise<void> {
    return this.stopping ?? Promise.resolve();
  }

  private attach(publisher: Publisher): void {
    this.publisher = publisher;
    this.clientAddress = publisher.clientAddress;
    this.probe = new SourceProbe();
    publisher.listen({
      media: (tag) => this.onMedia(publisher, tag),
      close: (why) => this.onPublisherClose(publisher, why),
    });
  }

  private onMedia(publisher: Publisher, tag: MediaTag): void {
    if (publisher !== this.publisher) return;
    if (this.transcoder) {
      this.transcoder.write(tag.bytes);
      return;
    }
    if (!this.probe) return;
    this.probe.push(tag, this.deps.now());
    this.checkProbe();
  }

  private checkProbe(): void {
    const probe = this.probe;
    if (!probe || this.isEnding()) return;
    const now = this.deps.now();
    const outcome = probe.outcome(now);
    if (!outcome.ready) {
      const at = probe.nextCheckAt(now);
      clearTimeout(this.probeTimer);
      if (at !== undefined) this.probeTimer = setTimeout(() => this.checkProbe(), Math.max(0, at - now));
      return;
    }
    clearTimeout(this.probeTimer);
    this.probe = undefined;
    if ('error' in outcome) {
      this.log.warn({ reason: outcome.error }, `cannot transcode this source: ${outcome.message}`);
      void this.stop(outcome.error as EndReason);
      return;
    }
    this.startTranscoder(outcome.result);
  }

  private startTranscoder(probe: ProbeResult): void {
    clearTimeout(this.firstMediaTimer);
    this.source = probe.source;
    const plan = planLadder(probe.source, { rungs: this.deps.settings.ladder, audioBitrateKbps: this.deps.settings.audioBitrateKbps });
    this.plan = plan;
    const settings = this.deps.settings;
    const args = buildFfmpegArgs({
      plan,
      outputDir: this.deps.output.dir,
      preset: settings.preset,
      segmentSeconds: settings.segmentSeconds,
      listSize: settings.listSize,
      continuePlaylists: false,
    });
    const transcoder = new Transcoder({
      ffmpegPath: this.deps.ffmpegPath,
      args,
      logger: this.log,
      stopGraceMs: settings.stopGraceMs,
      onProgress: (progress) => (this.progress = progress),
    });
    this.transcoder = transcoder;
    transcoder.write(flvHeader(plan.audio !== undefined, plan.video.length > 0));
    for (const tag of probe.tags) transcoder.write(tag);
    this.log.info(
      { source: probe.source, renditions: this.renditionNames() },
      `starting transcoder: ${plan.video.map((r) => `${r.width}x${r.height}`).join(', ') || 'audio only'}`,
    );
    void transcoder.exited.then((exit) => this.onTranscoderExit(transcoder, exit));
    this.prepared
      .then(() => this.deps.output.ensureRenditions(this.renditionNames()))
      .then(() => {
        if (this.isEnding()) return;
        this.watcher = new PlaylistWatcher(
          this.deps.output,
          this.renditionNames(),
          (progress) => this.onSegment(progress),
          (error) => this.log.warn({ err: error }, 'playlist watch error'),
        );
        this.watcher.start();
        transcoder.start();
      })
      .catch((error: unknown) => {
        this.log.error({ err: error }, 'cannot prepare the output folder');
        void this.stop('transcoder_failed');
      });
  }

  private onSegment(progress: SegmentProgress): void {
    if (this.currentState !== 'starting' || !this.plan || !this.watcher) return;
    if (this.watcher.renditionsWithSegments < this.renditionNames().length) return;
    const master = buildMasterPlaylist(this.plan);
    this.deps.output
      .writeMaster(master)
      .then(() => {
        if (this.currentState !== 'starting') return;
        this.log.info({ firstSequence: progress.sequence }, 'stream is live');
        this.setState('live');
      })
      .catch((error: unknown) => {
        this.log.error({ err: error }, 'cannot write the master playlist');
        void this.stop('transcoder_failed');
      });
  }

  private onPublisherClose(publisher: Publisher, why: PublisherCloseReason): void {
    if (publisher !== this.publisher) return;
    this.publisher = undefined;
    this.log.info({ why }, 'publisher disconnected');
    // End of input lets ffmpeg finish the segment in progress before it exits.
    this.transcoder?.endInput();
    void this.stop(why === 'kicked' ? 'kicked' : 'publisher_left');
  }

  private onTranscoderExit(transcoder: Transcoder, exit: TranscoderExit): void {
    if (transcoder !== this.transcoder) return;
    const kind = exit.expected ? 'expected' : 'failed';
    this.deps.metrics.transcoderExits.inc({ kind });
    if (exit.expected || this.isEnding()) return;
    this.log.error({ code: exit.code, signal: exit.signal, stderr: exit.stderrTail.slice(-10), spawnError: exit.spawnError }, 'ffmpeg exited unexpectedly');
    void this.stop('transcoder_failed');
  }

  private async shutDown(reason: EndReason): Promise<void> {
    this.endReason = reason;
    this.setState('ending');
    clearTimeout(this.probeTimer);
    clearTimeout(this.firstMediaTimer);
    const publisher = this.publisher;
    this.publisher = undefined;
    publisher?.disconnect();

    const transcoder = this.transcoder;
    if (transcoder) {
      // A publisher that left gets its last segment finished; anything else stops ffmpeg now.
      const drained = reason === 'publisher_left' ? await settledWithin(transcoder.exited, this.deps.settings.stopGraceMs) : false;
      if (!drained) await transcoder.stop();
    }
    this.watcher?.stop();
    await this.prepared.catch(() => undefined);
    try {
      await this.deps.output.endPlaylists(this.renditionNames());
    } catch (error) {
      this.log.error({ err: error }, 'cannot end the playlists');
    }
    this.log.info({ reason }, 'session ended');
    this.setState('ended');
  }

  private renditionNames(): string[] {
    if (!this.plan) return [];
    return [...this.plan.video.map((r) => r.name), ...(this.plan.audio ? [this.plan.audio.name] : [])];
  }

  private isEnding(): boolean {
    return this.currentState === 'ending' || this.currentState === 'ended';
  }

  private setState(state: SessionState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.deps.onStateChange(this, state);
  }
}

function settledWithin<T>(promise: Promise<T>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
