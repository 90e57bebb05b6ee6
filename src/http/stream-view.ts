import type { LiveSessionInfo } from '../live/session-view';
import type { SessionRecord } from '../live/session-repository';
import { withTokenParam } from '../playback/playback-uris';
import type { StreamRecord } from '../streams/stream-repository';
import type { ViewerCounter } from '../viewers/viewer-counter';

export interface UrlSettings {
  publicUrl: string;
  rtmpPublicUrl: string;
  /** With an RTMPS listener. */
  rtmpsPublicUrl?: string;
  /** Plain RTMP is refused (ingest.tlsRequired): only the RTMPS URL is handed out. */
  tlsRequired?: boolean;
}

export type StreamStatus = 'idle' | 'live';

/** A stream is live while viewers can play it: live, or waiting for its publisher to come back. */
export function statusOf(session: { viewable: boolean } | undefined): StreamStatus {
  return session?.viewable ? 'live' : 'idle';
}

/**
 * Where the view learns what is live: the server's registry and what the other nodes of its
 * cluster have live, or the sessions table for the CLI.
 */
export interface LiveState {
  /** On any node. */
  status(streamId: string): StreamStatus;
  /** The live session on this node. */
  session(streamId: string): LiveSessionInfo | undefined;
  /** The streams live on any node. */
  liveStreamIds(): string[];
}

/** Builds the JSON shapes of a stream (architecture.md names them; they are a contract). */
export class StreamView {
  constructor(
    private readonly urls: UrlSettings,
    private readonly live: LiveState,
    private readonly viewers: Pick<ViewerCounter, 'count'>,
    private readonly posters: { hasPoster(playbackId: string): Promise<boolean> },
  ) {}

  status(stream: StreamRecord): StreamStatus {
    return this.live.status(stream.id);
  }

  liveStreamIds(): string[] {
    return this.live.liveStreamIds();
  }

  /** With a signed stream's token, the URLs carry it (`?token=`). */
  playbackUrls(stream: StreamRecord, token?: string) {
    const urls = {
      hlsUrl: `${this.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`,
      playerUrl: `${this.urls.publicUrl}/watch/${stream.playbackId}`,
    };
    return token === undefined ? urls : { hlsUrl: withTokenParam(urls.hlsUrl, token), playerUrl: withTokenParam(urls.playerUrl, token) };
  }

  /**
   * The operator's view. The key is only ever part of the answer that created or reset it; the
   * live session is added for a single stream.
   */
  operator(stream: StreamRecord, streamKey?: string, withLiveSession = false) {
    const live = withLiveSession ? this.live.session(stream.id) : undefined;
    return {
      id: stream.id,
      name: stream.name,
      playbackId: stream.playbackId,
      ...(streamKey !== undefined && { streamKey }),
      ...this.ingestUrls(),
      ...this.playbackUrls(stream),
      status: this.status(stream),
      enabled: stream.enabled,
      profile: stream.profile,
      record: stream.record,
      reconnectWindowSeconds: stream.reconnectWindowSeconds,
      latencyMode: stream.latencyMode,
      playback: stream.playback,
      createdAt: new Date(stream.createdAt).toISOString(),
      updatedAt: new Date(stream.updatedAt).toISOString(),
      ...(withLiveSession && { liveSession: live ? this.liveSession(stream, live) : null }),
    };
  }

  /** What a streamer enters as "Server": RTMPS when there is a listener for it, plain RTMP unless refused. */
  private ingestUrls(): { ingestUrl: string; ingestUrls: string[] } {
    const { rtmpPublicUrl, rtmpsPublicUrl, tlsRequired } = this.urls;
    const urls = [...(tlsRequired && rtmpsPublicUrl ? [] : [rtmpPublicUrl]), ...(rtmpsPublicUrl ? [rtmpsPublicUrl] : [])];
    return { ingestUrl: urls[0]!, ingestUrls: urls };
  }

  liveSession(stream: StreamRecord, info: LiveSessionInfo) {
    const { startedAt, ...rest } = info;
    return { ...rest, startedAt: new Date(startedAt).toISOString(), viewers: this.viewers.count(stream.playbackId) };
  }

  /** Viewers of a live stream; an idle one has none, whatever players still ask for its ended playlists. */
  viewerCount(stream: StreamRecord): number {
    return this.status(stream) === 'live' ? this.viewers.count(stream.playbackId) : 0;
  }

  /** One entry of a stream's publish history. */
  session(stream: StreamRecord, session: SessionRecord) {
    return {
      id: session.id,
      node: session.node,
      state: session.state,
      startedAt: new Date(session.startedAt).toISOString(),
      endedAt: session.endedAt === null ? null : new Date(session.endedAt).toISOString(),
      endReason: session.endReason,
      clientAddress: session.clientAddress,
      bytesIn: session.bytesIn,
      video: session.videoCodec ? { codec: session.videoCodec, width: session.width, height: session.height, frameRate: session.frameRate } : null,
      audio: session.audioCodec ? { codec: session.audioCodec } : null,
      profile: session.profile,
      recorded: session.recorded,
      reconnects: session.reconnects,
      transcoderRestarts: session.transcoderRestarts,
      vodUrl: session.recorded ? `${this.urls.publicUrl}/hls/${stream.playbackId}/sessions/${session.id}/master.m3u8` : null,
    };
  }

  /** The stream in webhook events: what an operator's system needs, never the key. */
  webhook(stream: StreamRecord) {
    return { id: stream.id, name: stream.name, playbackId: stream.playbackId, enabled: stream.enabled, ...this.playbackUrls(stream) };
  }

  /**
   * What anyone with the playback id may see (with a signed stream's token, which its URLs carry).
   * The poster is the last picture while it is kept; `history` finds the session it is from once
   * the stream has no session here (pages that list only live streams need none).
   */
  async public(stream: StreamRecord, history?: SessionHistory, token?: string) {
    const hasPoster = await this.posters.hasPoster(stream.playbackId);
    const posterUrl = hasPoster ? await this.posterUrl(stream, history) : undefined;
    return {
      playbackId: stream.playbackId,
      name: stream.name,
      status: this.status(stream),
      viewers: this.viewerCount(stream),
      ...this.playbackUrls(stream, token),
      ...(posterUrl !== undefined && { posterUrl: token === undefined ? posterUrl : withTokenParam(posterUrl, token) }),
    };
  }

  /**
   * While the stream has a session here, its newest picture, made when asked for. Once the session
   * has ended, its last picture has an address of its own: the poster file is the same for every
   * session, and a browser that showed one session's picture would otherwise keep showing it
   * (a video element loads its poster again only when the address changes).
   */
  private async posterUrl(stream: StreamRecord, history: SessionHistory | undefined): Promise<string> {
    const url = `${this.urls.publicUrl}/hls/${stream.playbackId}/poster.jpg`;
    if (this.live.session(stream.id) || this.status(stream) === 'live') return url;
    const sessionId = await history?.lastEndedSessionId(stream.id);
    return sessionId ? `${url}?v=${sessionId}` : url;
  }
}

/** The streams' past sessions (the database). */
export interface SessionHistory {
  lastEndedSessionId(streamId: string): Promise<string | undefined>;
}
