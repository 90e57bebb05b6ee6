import { generateId, generatePlaybackId, generateStreamKey, hashSecret, STREAM_KEY_PREFIX } from './keys';
import type { Page, PagePosition } from '../db/page';
import type { LatencyMode, StreamChanges, StreamFilter, StreamOptions, StreamRecord, StreamRepository } from './stream-repository';

export type KeyRefusal = 'malformed_key' | 'unknown_key' | 'stream_disabled';

export type KeyCheck = { ok: true; stream: StreamRecord } | { ok: false; reason: KeyRefusal };

const KEY_SHAPE = new RegExp(`^${STREAM_KEY_PREFIX}[A-Za-z0-9]{32}$`);

export class StreamService {
  constructor(
    private readonly repository: StreamRepository,
    private readonly now: () => number = Date.now,
    /** For a stream created without one (hls.latencyMode). */
    private readonly defaultLatencyMode: LatencyMode = 'low',
  ) {}

  /** The key is returned once, here; only its hash is kept. */
  async create(input: { name: string } & Partial<StreamOptions>): Promise<{ stream: StreamRecord; streamKey: string }> {
    const streamKey = generateStreamKey();
    const stream = await this.repository.insert({
      id: generateId(),
      name: input.name,
      profile: input.profile ?? 'ladder',
      record: input.record ?? false,
      reconnectWindowSeconds: input.reconnectWindowSeconds ?? null,
      latencyMode: input.latencyMode ?? this.defaultLatencyMode,
      playback: input.playback ?? 'public',
      playbackId: generatePlaybackId(),
      keyHash: hashSecret(streamKey),
      createdAt: this.now(),
    });
    return { stream, streamKey };
  }

  get(id: string): Promise<StreamRecord | undefined> {
    return this.repository.findById(id);
  }

  getByPlaybackId(playbackId: string): Promise<StreamRecord | undefined> {
    return this.repository.findByPlaybackId(playbackId);
  }

  page(limit: number, after?: PagePosition, filter?: StreamFilter): Promise<Page<StreamRecord>> {
    return this.repository.page(limit, after, filter);
  }

  findByIds(ids: string[]): Promise<StreamRecord[]> {
    return this.repository.findByIds(ids);
  }

  update(id: string, changes: StreamChanges): Promise<StreamRecord | undefined> {
    return this.repository.update(id, changes, this.now());
  }

  /** A new key; the old one stops working at once. Returns the new key, shown once. */
  async resetKey(id: string): Promise<string> {
    const streamKey = generateStreamKey();
    await this.repository.replaceKeyHash(id, hashSecret(streamKey), this.now());
    return streamKey;
  }

  /** Recorded in the database so that the node running the session (and the CLI) can act on it. */
  requestKick(id: string): Promise<void> {
    return this.repository.requestKick(id, this.now());
  }

  delete(id: string): Promise<boolean> {
    return this.repository.delete(id);
  }

  lastEndedSessionId(streamId: string): Promise<string | undefined> {
    return this.repository.lastEndedSessionId(streamId);
  }

  /** Decides whether a publish with this key may go live. Rejects obviously wrong keys without a query. */
  async checkKey(streamKey: string): Promise<KeyCheck> {
    if (!KEY_SHAPE.test(streamKey)) return { ok: false, reason: 'malformed_key' };
    const stream = await this.repository.findByKeyHash(hashSecret(streamKey));
    if (!stream) return { ok: false, reason: 'unknown_key' };
    if (!stream.enabled) return { ok: false, reason: 'stream_disabled' };
    return { ok: true, stream };
  }
}
