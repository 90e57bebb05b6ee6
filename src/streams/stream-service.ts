import { generateId, generatePlaybackId, generateStreamKey, hashSecret, STREAM_KEY_PREFIX } from './keys';
import type { StreamOptions, StreamRecord, StreamRepository } from './stream-repository';

export type KeyRefusal = 'malformed_key' | 'unknown_key' | 'stream_disabled';

export type KeyCheck = { ok: true; stream: StreamRecord } | { ok: false; reason: KeyRefusal };

const KEY_SHAPE = new RegExp(`^${STREAM_KEY_PREFIX}[A-Za-z0-9]{32}$`);

export class StreamService {
  constructor(
    private readonly repository: StreamRepository,
    private readonly now: () => number = Date.now,
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

  list(limit: number): Promise<StreamRecord[]> {
    return this.repository.list(limit);
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
