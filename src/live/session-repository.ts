import type { Database } from '../db/knex';
import { fetchPage, type Page, type PagePosition } from '../db/page';

export interface SessionRecord {
  id: string;
  streamId: string;
  node: string;
  state: string;
  clientAddress: string | null;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
  bytesIn: number;
  videoCodec: string | null;
  audioCodec: string | null;
  width: number | null;
  height: number | null;
  frameRate: number | null;
  profile: string;
  recorded: boolean;
  reconnects: number;
  transcoderRestarts: number;
  /** The newest complete segment of its first rendition. */
  lastMsn: number | null;
  /** EXT-X-DISCONTINUITY tags so far: one per run after the first. */
  discontinuities: number;
}

interface SessionRow {
  id: string;
  stream_id: string;
  node: string;
  state: string;
  client_address: string | null;
  started_at: number | string;
  ended_at: number | string | null;
  end_reason: string | null;
  bytes_in: number | string;
  video_codec: string | null;
  audio_codec: string | null;
  width: number | null;
  height: number | null;
  frame_rate: number | null;
  profile: string;
  recorded: number | boolean;
  reconnects: number;
  transcoder_restarts: number;
  last_msn: number | null;
  discontinuities: number;
}

const COLUMNS: Record<keyof SessionRecord, keyof SessionRow> = {
  id: 'id',
  streamId: 'stream_id',
  node: 'node',
  state: 'state',
  clientAddress: 'client_address',
  startedAt: 'started_at',
  endedAt: 'ended_at',
  endReason: 'end_reason',
  bytesIn: 'bytes_in',
  videoCodec: 'video_codec',
  audioCodec: 'audio_codec',
  width: 'width',
  height: 'height',
  frameRate: 'frame_rate',
  profile: 'profile',
  recorded: 'recorded',
  reconnects: 'reconnects',
  transcoderRestarts: 'transcoder_restarts',
  lastMsn: 'last_msn',
  discontinuities: 'discontinuities',
};

function toRecord(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    streamId: row.stream_id,
    node: row.node,
    state: row.state,
    clientAddress: row.client_address,
    startedAt: Number(row.started_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    endReason: row.end_reason,
    bytesIn: Number(row.bytes_in),
    videoCodec: row.video_codec,
    audioCodec: row.audio_codec,
    width: row.width,
    height: row.height,
    frameRate: row.frame_rate,
    profile: row.profile,
    recorded: Boolean(row.recorded),
    reconnects: row.reconnects,
    transcoderRestarts: row.transcoder_restarts,
    lastMsn: row.last_msn === null ? null : Number(row.last_msn),
    discontinuities: Number(row.discontinuities),
  };
}

function toRow(patch: Partial<SessionRecord>): Partial<SessionRow> {
  const row: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) row[COLUMNS[key as keyof SessionRecord]] = value;
  }
  return row as Partial<SessionRow>;
}

/** The publish history: one row per live session, written as the session changes state. */
export class SessionRepository {
  constructor(private readonly db: Database) {}

  async insert(record: SessionRecord): Promise<void> {
    await this.db<SessionRow>('sessions').insert(toRow(record));
  }

  /** Only while `node` has the session: once another node has taken it over, this one's writes are void. */
  async update(id: string, node: string, patch: Partial<SessionRecord>): Promise<void> {
    await this.db<SessionRow>('sessions').where({ id, node }).update(toRow(patch));
  }

  /** Another node's session of this stream that never ended (the node died, or lost the stream): the one to continue. */
  async openElsewhere(streamId: string, node: string): Promise<SessionRecord | undefined> {
    const row = await this.db<SessionRow>('sessions').where({ stream_id: streamId }).whereNot({ node }).whereNull('ended_at').orderBy('started_at', 'desc').first();
    return row && toRecord(row);
  }

  /** Takes a session over for `node`: it is this node's from now on. */
  async adopt(id: string, node: string, patch: Partial<SessionRecord>): Promise<void> {
    await this.db<SessionRow>('sessions')
      .where({ id })
      .update({ ...toRow(patch), node });
  }

  async findById(id: string): Promise<SessionRecord | undefined> {
    const row = await this.db<SessionRow>('sessions').where({ id }).first();
    return row && toRecord(row);
  }

  /** Sessions this node left open (it crashed): closed with the given reason, and returned. */
  async closeOpen(node: string, endedAt: number, endReason: string): Promise<SessionRecord[]> {
    const open = await this.db<SessionRow>('sessions').where({ node }).whereNull('ended_at');
    if (open.length === 0) return [];
    await this.db<SessionRow>('sessions')
      .whereIn(
        'id',
        open.map((row) => row.id),
      )
      .update({ ended_at: endedAt, end_reason: endReason, state: 'ended' });
    return open.map((row) => ({ ...toRecord(row), endedAt, endReason, state: 'ended' }));
  }

  /**
   * Sessions left open by nodes gone since before `goneBefore` (killed and not back, or drained
   * with nobody taking their streams): closed with `endReason`, once no publisher came back to
   * continue them. Returns how many.
   */
  async closeOfGoneNodes(goneBefore: number, endedAt: number, endReason: string): Promise<number> {
    const gone = this.db('nodes')
      .select('id')
      .where((q) => q.where('heartbeat_at', '<', goneBefore).orWhere('left_at', '<', goneBefore));
    return this.db<SessionRow>('sessions').whereNull('ended_at').whereIn('node', gone).update({ ended_at: endedAt, end_reason: endReason, state: 'ended' });
  }

  /** Streams with a session open in a state viewers can play, on any node. */
  async liveStreamIds(): Promise<Set<string>> {
    const rows = await this.db<SessionRow>('sessions').whereNull('ended_at').whereIn('state', ['live', 'reconnecting']).select('stream_id');
    return new Set(rows.map((row) => row.stream_id));
  }

  async deleteByStream(streamId: string): Promise<void> {
    await this.db<SessionRow>('sessions').where({ stream_id: streamId }).delete();
  }

  /** Newest first. */
  async listByStream(streamId: string, limit: number): Promise<SessionRecord[]> {
    return (await this.pageByStream(streamId, limit)).items;
  }

  /** Newest first, `limit` at a time, continuing after `after`. */
  async pageByStream(streamId: string, limit: number, after?: PagePosition): Promise<Page<SessionRecord>> {
    return fetchPage(this.db<SessionRow>('sessions').where({ stream_id: streamId }), 'started_at', limit, after, toRecord);
  }
}
