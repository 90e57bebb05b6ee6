import type { Database } from '../db/knex';

export type TokenScope = 'admin' | 'read';

export interface ApiTokenRecord {
  id: string;
  name: string;
  scope: TokenScope;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

interface TokenRow {
  id: string;
  name: string;
  scope: string;
  token_hash: string;
  created_at: number | string;
  last_used_at: number | string | null;
  revoked_at: number | string | null;
}

function toRecord(row: TokenRow): ApiTokenRecord {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope === 'admin' ? 'admin' : 'read',
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

export class TokenRepository {
  constructor(private readonly db: Database) {}

  async insert(token: { id: string; name: string; scope: TokenScope; tokenHash: string; createdAt: number }): Promise<void> {
    await this.db<TokenRow>('api_tokens').insert({
      id: token.id,
      name: token.name,
      scope: token.scope,
      token_hash: token.tokenHash,
      created_at: token.createdAt,
      last_used_at: null,
      revoked_at: null,
    });
  }

  async findActiveByHash(tokenHash: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.db<TokenRow>('api_tokens').where({ token_hash: tokenHash }).whereNull('revoked_at').first();
    return row && toRecord(row);
  }

  async countActive(): Promise<number> {
    const result = await this.db<TokenRow>('api_tokens').whereNull('revoked_at').count<{ n: number | string }[]>({ n: '*' });
    return Number(result[0]?.n ?? 0);
  }

  async touch(id: string, at: number): Promise<void> {
    await this.db<TokenRow>('api_tokens').where({ id }).update({ last_used_at: at });
  }

  async findById(id: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.db<TokenRow>('api_tokens').where({ id }).first();
    return row && toRecord(row);
  }

  /** Active tokens first, newest first; revoked ones stay listed for the record. */
  async list(): Promise<ApiTokenRecord[]> {
    const rows = await this.db<TokenRow>('api_tokens').orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ]);
    return rows.map(toRecord).sort((a, b) => Number(a.revokedAt !== null) - Number(b.revokedAt !== null));
  }

  /** False when there is no such active token. */
  async revoke(id: string, at: number): Promise<boolean> {
    return (await this.db<TokenRow>('api_tokens').where({ id }).whereNull('revoked_at').update({ revoked_at: at })) > 0;
  }
}
