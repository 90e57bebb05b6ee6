import type { Knex } from 'knex';

/** A position in a list ordered by (time desc, id desc): the last item of the previous page. */
export interface PagePosition {
  at: number;
  id: string;
}

export interface Page<T> {
  items: T[];
  /** Where the next page starts; undefined on the last page. */
  next?: PagePosition;
}

/**
 * One page of `query`, newest first by `timeColumn` with ties broken by id, so that pages stay
 * stable while rows are added. Fetches one row more than asked to know whether another page follows.
 */
export async function fetchPage<Row extends { id: string }, T>(
  query: Knex.QueryBuilder,
  timeColumn: string,
  limit: number,
  after: PagePosition | undefined,
  map: (row: Row) => T,
): Promise<Page<T>> {
  if (after) {
    query.andWhere((q) => q.where(timeColumn, '<', after.at).orWhere((same) => same.where(timeColumn, after.at).andWhere('id', '<', after.id)));
  }
  const rows = (await query
    .orderBy([
      { column: timeColumn, order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(limit + 1)) as Row[];
  const items = rows.slice(0, limit);
  const last = items[items.length - 1] as (Row & Record<string, unknown>) | undefined;
  return rows.length > limit && last ? { items: items.map(map), next: { at: Number(last[timeColumn]), id: last.id } } : { items: items.map(map) };
}
