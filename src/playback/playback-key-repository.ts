import type { Database } from '../db/knex';

export interface PlaybackKeyRecord {
  id: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

interface KeyRow {
  id: string;
  secret: string;
  name: string;
  created_at: number | string;
  revoked_at: number | string | null;
}

function toRecord(row: KeyRow): PlaybackKeyRecord {
  return { id: row.id, name: row.name, createdAt: Number(row.created_at), revokedAt: row.revoked_at === null ? null : Number(row.revoked_at) };
}

/** The signing keys of playback tokens (the playback_keys table). */
export class PlaybackKeyRepository {
  constructor(private readonly db: Database) {}

  async insert(key: { id: string; secret: string; name: string; createdAt: number }): Promise<void> {
    await this.db<KeyRow>('playback_keys').insert({ id: key.id, secret: key.secret, name: key.name, created_at: key.createdAt, revoked_at: null });
  }

  /** Active keys first, newest first; revoked ones stay listed for the record. */
  async list(): Promise<PlaybackKeyRecord[]> {
    const rows = await this.db<KeyRow>('playback_keys').orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ]);
    return rows.map(toRecord).sort((a, b) => Number(a.revokedAt !== null) - Number(b.revokedAt !== null));
  }

  /** Every key with its secret, for checking tokens. */
  async all(): Promise<Array<{ id: string; secret: string; revoked: boolean }>> {
    return (await this.db<KeyRow>('playback_keys').select('id', 'secret', 'revoked_at')).map((row) => ({ id: row.id, secret: row.secret, revoked: row.revoked_at !== null }));
  }

  /** The newest active key, which the API signs with. */
  async newestActive(): Promise<{ id: string; secret: string } | undefined> {
    return this.db<KeyRow>('playback_keys')
      .whereNull('revoked_at')
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .first('id', 'secret');
  }

  /** False when there is no such active key. */
  async revoke(id: string, at: number): Promise<boolean> {
    return (await this.db<KeyRow>('playback_keys').where({ id }).whereNull('revoked_at').update({ revoked_at: at })) > 0;
  }
}
