import type { Database } from '../db/knex';

export const DESTINATION_STATUSES = ['idle', 'connecting', 'live', 'retrying', 'failed'] as const;
export type DestinationStatus = (typeof DESTINATION_STATUSES)[number];

export interface DestinationRecord {
  id: string;
  streamId: string;
  url: string;
  /** A secret of the platform's: sent to it, never shown back in full, never logged. */
  streamKey: string;
  status: DestinationStatus;
  lastError: string | null;
  statusAt: number | null;
  createdAt: number;
}

interface DestinationRow {
  id: string;
  stream_id: string;
  url: string;
  stream_key: string;
  status: string;
  last_error: string | null;
  status_at: number | string | null;
  created_at: number | string;
}

function toRecord(row: DestinationRow): DestinationRecord {
  return {
    id: row.id,
    streamId: row.stream_id,
    url: row.url,
    streamKey: row.stream_key,
    status: (DESTINATION_STATUSES as readonly string[]).includes(row.status) ? (row.status as DestinationStatus) : 'idle',
    lastError: row.last_error,
    statusAt: row.status_at === null ? null : Number(row.status_at),
    createdAt: Number(row.created_at),
  };
}

/** Where a stream is restreamed to (the destinations table). */
export class DestinationRepository {
  constructor(private readonly db: Database) {}

  async insert(destination: { id: string; streamId: string; url: string; streamKey: string; createdAt: number }): Promise<DestinationRecord> {
    await this.db<DestinationRow>('destinations').insert({
      id: destination.id,
      stream_id: destination.streamId,
      url: destination.url,
      stream_key: destination.streamKey,
      status: 'idle',
      last_error: null,
      status_at: null,
      created_at: destination.createdAt,
    });
    return { ...destination, status: 'idle', lastError: null, statusAt: null };
  }

  /** Oldest first: the order they were added in. */
  async listByStream(streamId: string): Promise<DestinationRecord[]> {
    return (
      await this.db<DestinationRow>('destinations')
        .where({ stream_id: streamId })
        .orderBy([
          { column: 'created_at', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
    ).map(toRecord);
  }

  /** Of several streams at once (the stream watch's look at every live stream). */
  async listByStreams(streamIds: string[]): Promise<DestinationRecord[]> {
    if (streamIds.length === 0) return [];
    return (
      await this.db<DestinationRow>('destinations')
        .whereIn('stream_id', streamIds)
        .orderBy([
          { column: 'created_at', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
    ).map(toRecord);
  }

  async countByStream(streamId: string): Promise<number> {
    const result = await this.db<DestinationRow>('destinations').where({ stream_id: streamId }).count<{ n: number | string }[]>({ n: '*' });
    return Number(result[0]?.n ?? 0);
  }

  async delete(streamId: string, id: string): Promise<boolean> {
    return (await this.db<DestinationRow>('destinations').where({ stream_id: streamId, id }).delete()) > 0;
  }

  async deleteByStream(streamId: string): Promise<void> {
    await this.db<DestinationRow>('destinations').where({ stream_id: streamId }).delete();
  }

  async setStatus(id: string, status: DestinationStatus, lastError: string | null, at: number): Promise<void> {
    await this.db<DestinationRow>('destinations')
      .where({ id })
      .update({ status, last_error: lastError === null ? null : lastError.slice(0, 500), status_at: at });
  }
}
