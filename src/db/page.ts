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

/** Fetches one more row than asked to know whether another page follows. */
export function toPage<T extends { id: string }>(rows: T[], limit: number, timeOf: (row: T) => number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return rows.length > limit && last ? { items, next: { at: timeOf(last), id: last.id } } : { items };
}
