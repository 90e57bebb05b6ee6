import crypto from 'node:crypto';
import { PeriodicTask } from '../periodic-task';
import type { Logger } from '../observability/logger';
import { generateId } from '../streams/keys';
import type { StreamRecord, StreamRepository } from '../streams/stream-repository';
import type { AccessSnapshot, PlaybackAccess } from './playback-access';
import type { PlaybackKeyRecord, PlaybackKeyRepository } from './playback-key-repository';
import { signPlaybackToken } from './playback-token';

export interface MintOptions {
  expiresInSeconds: number;
  /** Page origins allowed to embed the player; any when absent. */
  origins?: string[];
  /** Counted as one viewer, however many players use the token. */
  viewerId?: string;
}

/**
 * Signing keys and tokens, and keeping this node's (and its delivery processes') picture of who
 * may watch up to date with the database: at once after a change made here, and every
 * `refreshMs` for changes made by the CLI or another node.
 */
export class PlaybackService {
  private readonly task: PeriodicTask;
  private readonly listeners: Array<(snapshot: AccessSnapshot) => void> = [];
  private current: AccessSnapshot = { signed: [], keys: [] };
  private fingerprint = '';
  /** Loads run one after the other, so that an older one never lands after a newer one. */
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      keys: PlaybackKeyRepository;
      streams: Pick<StreamRepository, 'signedPlaybackIds'>;
      access: PlaybackAccess;
      refreshMs: number;
      logger: Logger;
      now?: () => number;
      /** Tells the other nodes of a cluster to look now (Redis), after a change made here. */
      announce?: () => void;
    },
  ) {
    this.task = new PeriodicTask(
      deps.refreshMs,
      () => this.refresh(),
      (error) => deps.logger.warn({ err: error }, 'could not refresh the signed streams and playback keys'),
    );
  }

  async start(): Promise<void> {
    await this.task.run();
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /**
   * After a change made here to a stream's playback policy or to the keys: in effect on this node
   * at once, and on the others as soon as they hear of it.
   */
  async changed(): Promise<void> {
    await this.refresh();
    this.deps.announce?.();
  }

  /** Reads the signed streams and the keys again (another node announced a change). */
  refresh(): Promise<void> {
    const load = this.loading.then(() => this.load());
    this.loading = load.catch(() => undefined);
    return load;
  }

  /** `listener` gets the snapshot now and after every refresh that changes it. */
  follow(listener: (snapshot: AccessSnapshot) => void): void {
    this.listeners.push(listener);
    listener(this.current);
  }

  /** The secret is returned once, here: a customer's backend mints tokens with it. */
  async createKey(name = ''): Promise<{ record: PlaybackKeyRecord; secret: string }> {
    const record = { id: generateId(), name, createdAt: this.now(), revokedAt: null };
    const secret = crypto.randomBytes(32).toString('base64url');
    await this.deps.keys.insert({ ...record, secret });
    await this.changed();
    return { record, secret };
  }

  listKeys(): Promise<PlaybackKeyRecord[]> {
    return this.deps.keys.list();
  }

  /** Tokens signed with it stop working at once on this node, and on the others when they hear of it (within `refreshMs`). */
  async revokeKey(id: string): Promise<boolean> {
    const revoked = await this.deps.keys.revoke(id, this.now());
    if (revoked) await this.changed();
    return revoked;
  }

  /**
   * A token for one stream, signed with the newest active key. Without any key yet, one is made
   * (its secret is never shown; it can be revoked like any other).
   */
  async mint(stream: StreamRecord, options: MintOptions): Promise<{ token: string; expiresAt: number }> {
    let key = await this.deps.keys.newestActive();
    if (!key) {
      const created = await this.createKey('minted by the API');
      key = { id: created.record.id, secret: created.secret };
    }
    const nowSeconds = Math.floor(this.now() / 1000);
    const exp = nowSeconds + options.expiresInSeconds;
    const token = signPlaybackToken(
      {
        exp,
        iat: nowSeconds,
        pid: stream.playbackId,
        ...(options.origins && { origins: options.origins }),
        ...(options.viewerId !== undefined && { vid: options.viewerId }),
      },
      { id: key.id, secret: Buffer.from(key.secret, 'base64url') },
    );
    return { token, expiresAt: exp * 1000 };
  }

  private async load(): Promise<void> {
    const [signed, keys] = await Promise.all([this.deps.streams.signedPlaybackIds(), this.deps.keys.all()]);
    // Followers (the delivery processes) hear of changes only: a refresh that finds none would wake them all.
    const fingerprint = JSON.stringify([signed, keys]);
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    this.current = { signed, keys };
    this.deps.access.update(this.current);
    for (const listener of this.listeners) listener(this.current);
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
