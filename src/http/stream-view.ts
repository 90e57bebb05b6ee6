import type { LiveRegistry } from '../live/live-registry';
import type { StreamRecord } from '../streams/stream-repository';

export interface UrlSettings {
  publicUrl: string;
  rtmpPublicUrl: string;
}

export type StreamStatus = 'idle' | 'live';

/** Builds the JSON shapes of a stream (architecture.md names them; they are a contract). */
export class StreamView {
  constructor(
    private readonly urls: UrlSettings,
    private readonly registry: LiveRegistry,
  ) {}

  status(stream: StreamRecord): StreamStatus {
    const state = this.registry.getByStreamId(stream.id)?.state;
    return state === 'live' || state === 'reconnecting' ? 'live' : 'idle';
  }

  playbackUrls(stream: StreamRecord) {
    return {
      hlsUrl: `${this.urls.publicUrl}/hls/${stream.playbackId}/master.m3u8`,
      playerUrl: `${this.urls.publicUrl}/watch/${stream.playbackId}`,
    };
  }

  /** The operator's view. The key is only ever part of the answer that created or reset it. */
  operator(stream: StreamRecord, streamKey?: string) {
    return {
      id: stream.id,
      name: stream.name,
      playbackId: stream.playbackId,
      ...(streamKey !== undefined && { streamKey }),
      ingestUrl: this.urls.rtmpPublicUrl,
      ...this.playbackUrls(stream),
      status: this.status(stream),
      enabled: stream.enabled,
      profile: stream.profile,
      record: stream.record,
      reconnectWindowSeconds: stream.reconnectWindowSeconds,
      createdAt: new Date(stream.createdAt).toISOString(),
      updatedAt: new Date(stream.updatedAt).toISOString(),
    };
  }

  /** What anyone with the playback id may see. */
  public(stream: StreamRecord) {
    return {
      playbackId: stream.playbackId,
      name: stream.name,
      status: this.status(stream),
      ...this.playbackUrls(stream),
    };
  }
}
