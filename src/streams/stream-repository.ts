import type { Database } from '../db/knex';
import { fetchPage, type Page, type PagePosition } from '../db/page';

export const LATENCY_MODES = ['low', 'standard'] as const;
export type LatencyMode = (typeof LATENCY_MODES)[number];
export const PLAYBACK_POLICIES = ['public', 'signed'] as const;
export type PlaybackPolicy = (typeof PLAYBACK_POLICIES)[number];

export interface StreamOptions {
  /** `ladder`, `passthrough`, or a profile defined in the configuration. */
  profile: string;
  /** Keep every segment of each session as a recording. */
  record: boolean;
  /** Seconds a dropped publisher has to come back; null for the configured default. */
  reconnectWindowSeconds: number | null;
  /** `low`: LL-HLS parts and blocking reloads; `standard`: whole segments only. */
  latencyMode: LatencyMode;
  /** `public`: anyone with the playback id watches; `signed`: only with a playback token (src/playback/). */
  playback: PlaybackPolicy;
}

export interface StreamRecord extends StreamOptions {
  id: string;
  name: string;
  playbackId: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
  /** When an operator last asked for the live session to be cut. */
  kickRequestedAt: number | null;
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
  latency_mode: string;
  playback: string;
  created_at: number | string;
  updated_at: number | string;
  kick_requested_at: number | string | null;
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
    latencyMode: row.latency_mode === 'standard' ? 'standard' : 'low',
    // Anything but public is signed: a value this version does not know never opens a stream.
    playback: row.playback === 'public' ? 'public' : 'signed',
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    kickRequestedAt: row.kick_requested_at === null ? null : Number(row.kick_requested_at),
  };
}

export interface NewStream extends StreamOptions {
  id: string;
  name: string;
  playbackId: string;
  keyHash: string;
  createdAt: number;
}

export type StreamChanges = Partial<Pick<StreamRecord, 'name' | 'enabled' | 'profile' | 'record' | 'reconnectWindowSeconds' | 'latencyMode' | 'playback'>>;

export interface StreamFilter {
  enabled?: boolean;
  /** Only these ids, or all but these. */
  ids?: { in: string[] } | { notIn: string[] };
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
      latency_mode: stream.latencyMode,
      playback: stream.playback,
      created_at: stream.createdAt,
      updated_at: stream.createdAt,
      kick_requested_at: null,
    });
    const created = await this.findById(stream.id);
    if (!created) throw new Error(`stream ${stream.id} vanished after insert`);
    return created;
  }

  async findById(id: string): Promise<StreamRecord | undefined> {
    const row = await this.db<StreamRow>('streams').where({ id }).first();
    return row && toRecord(row);
  }

  async findByIds(ids: string[]): Promise<StreamRecord[]> {
    if (ids.length === 0) return [];
    return (await this.db<StreamRow>('streams').whereIn('id', ids)).map(toRecord);
  }

  async findByPlaybackId(playbackId: string): Promise<StreamRecord | undefined> {
    const row = await this.db<StreamRow>('streams').where({ playback_id: playbackId }).first();
    return row && toRecord(row);
  }

  async findByKeyHash(keyHash: string): Promise<StreamRecord | undefined> {
    const row = await this.db<StreamRow>('streams').where({ key_hash: keyHash }).first();
    return row && toRecord(row);
  }

  /** Newest first, ties broken by id, so pages are stable while streams are added. */
  async page(limit: number, after: PagePosition | undefined, filter: StreamFilter = {}): Promise<Page<StreamRecord>> {
    const query = this.db<StreamRow>('streams');
    if (filter.enabled !== undefined) query.where({ enabled: filter.enabled });
    if (filter.ids && 'in' in filter.ids) query.whereIn('id', filter.ids.in);
    if (filter.ids && 'notIn' in filter.ids && filter.ids.notIn.length > 0) query.whereNotIn('id', filter.ids.notIn);
    return fetchPage(query, 'created_at', limit, after, toRecord);
  }

  async update(id: string, changes: StreamChanges, at: number): Promise<StreamRecord | undefined> {
    const row: Partial<StreamRow> = { updated_at: at };
    if (changes.name !== undefined) row.name = changes.name;
    if (changes.enabled !== undefined) row.enabled = changes.enabled;
    if (changes.profile !== undefined) row.profile = changes.profile;
    if (changes.record !== undefined) row.record = changes.record;
    if (changes.reconnectWindowSeconds !== undefined) row.reconnect_window_seconds = changes.reconnectWindowSeconds;
    if (changes.latencyMode !== undefined) row.latency_mode = changes.latencyMode;
    if (changes.playback !== undefined) row.playback = changes.playback;
    await this.db<StreamRow>('streams').where({ id }).update(row);
    return this.findById(id);
  }

  /** The playback ids of the signed streams. */
  async signedPlaybackIds(): Promise<string[]> {
    return (await this.db<StreamRow>('streams').where({ playback: 'signed' }).select('playback_id')).map((row) => row.playback_id);
  }

  async replaceKeyHash(id: string, keyHash: string, at: number): Promise<void> {
    await this.db<StreamRow>('streams').where({ id }).update({ key_hash: keyHash, updated_at: at });
  }

  async requestKick(id: string, at: number): Promise<void> {
    await this.db<StreamRow>('streams').where({ id }).update({ kick_requested_at: at });
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db<StreamRow>('streams').where({ id }).delete()) > 0;
  }

  /** The id of the stream's newest session that has ended (the sessions table: src/live/session-repository.ts). */
  async lastEndedSessionId(streamId: string): Promise<string | undefined> {
    const row = await this.db<{ id: string; stream_id: string; started_at: number; ended_at: number | null }>('sessions')
      .where({ stream_id: streamId })
      .whereNotNull('ended_at')
      .orderBy('started_at', 'desc')
      .first('id');
    return row?.id;
  }
}
