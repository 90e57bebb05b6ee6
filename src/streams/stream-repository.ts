import type { Database } from '../db/knex';

export interface StreamOptions {
  /** `ladder`, `passthrough`, or a profile defined in the configuration. */
  profile: string;
  /** Keep every segment of each session as a recording. */
  record: boolean;
  /** Seconds a dropped publisher has to come back; null for the configured default. */
  reconnectWindowSeconds: number | null;
}

export interface StreamRecord extends StreamOptions {
  id: string;
  name: string;
  playbackId: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

interface StreamRow {
  id: string;
  name: string;
  playback_id: string;
  key_hash: string;
  enabled: number | boolean;
  profile: string;
  record: number | boolean;
  reconnect_window_seconds: number | null;
  created_at: number | string;
  updated_at: number | string;
}

function toRecord(row: StreamRow): StreamRecord {
  return {
    id: row.id,
    name: row.name,
    playbackId: row.playback_id,
    enabled: Boolean(row.enabled),
    profile: row.profile,
    record: Boolean(row.record),
    reconnectWindowSeconds: row.reconnect_window_seconds,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export interface NewStream extends StreamOptions {
  id: string;
  name: string;
  playbackId: string;
  keyHash: string;
  createdAt: number;
}

export class StreamRepository {
  constructor(private readonly db: Database) {}

  async insert(stream: NewStream): Promise<StreamRecord> {
    await this.db<StreamRow>('streams').insert({
      id: stream.id,
      name: stream.name,
      playback_id: stream.playbackId,
      key_hash: stream.keyHash,
      enabled: true,
      profile: stream.profile,
      record: stream.record,
      reconnect_window_seconds: stream.reconnectWindowSeconds,
      created_at: stream.createdAt,
      updated_at: stream.createdAt,
    });
    const created = await this.findById(stream.id);
    if (!created) throw new Error(`stream ${stream.id} vanished after insert`);
    return created;
  }

  async findById(id: string): Promise<StreamRecord | undefined> {
    const row = await this.db<StreamRow>('streams').where({ id }).first();
    return row && toRecord(row);
  }

  async findByPlaybackId(playbackId: string): Promise<StreamRecord | undefined> {
    const row = await this.db<StreamRow>('streams').where({ playback_id: playbackId }).first();
    return row && toRecord(row);
  }

  async findByKeyHash(keyHash: string): Promise<StreamRecord | undefined> {
    const row = await this.db<StreamRow>('streams').where({ key_hash: keyHash }).first();
    return row && toRecord(row);
  }

  /** Newest first; ties broken by id so the order is stable. */
  async list(limit: number): Promise<StreamRecord[]> {
    const rows = await this.db<StreamRow>('streams').orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ]).limit(limit);
    return rows.map(toRecord);
  }
}
