import type { Database } from '../db/knex';
import { fetchPage, type Page, type PagePosition } from '../db/page';
import { generateId } from '../streams/keys';

export interface AuditEntry {
  id: string;
  at: number;
  tokenId: string;
  tokenName: string;
  /** What was attempted, e.g. `streams.update`. */
  action: string;
  /** What it was done to, e.g. `stream:<id>`. */
  target: string | null;
  /** `ok`, or the error code the attempt ended with. */
  outcome: string;
  status: number;
}

interface AuditRow {
  id: string;
  at: number | string;
  token_id: string;
  token_name: string;
  action: string;
  target: string | null;
  outcome: string;
  status: number;
}

/** Every change an operator makes (through the API or the CLI), successful or not. */
export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  async record(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
    await this.db<AuditRow>('audit_log').insert({
      id: generateId(),
      at: this.now(),
      token_id: entry.tokenId,
      token_name: entry.tokenName,
      action: entry.action,
      target: entry.target,
      outcome: entry.outcome,
      status: entry.status,
    });
  }

  /** Newest first. */
  async page(limit: number, after?: PagePosition): Promise<Page<AuditEntry>> {
    return fetchPage(this.db<AuditRow>('audit_log').where({}), 'at', limit, after, (row: AuditRow) => ({
      id: row.id,
      at: Number(row.at),
      tokenId: row.token_id,
      tokenName: row.token_name,
      action: row.action,
      target: row.target,
      outcome: row.outcome,
      status: row.status,
    }));
  }
}
