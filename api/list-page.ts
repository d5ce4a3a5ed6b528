/**
 * A page of a newest-first list, bounded in bytes as well as in items: items are added until the
 * next one would take the page past LIST_PAGE_MAX_BYTES (the first always goes in), and a page
 * cut short carries the cursor after its last item, so a client pages on as usual.
 */
import { encodeListCursor, type ListCursor, nextCursorParam } from '../shared/list-cursor.ts';

/** Most bytes of items one list page carries (a single larger item is still answered alone). */
export const LIST_PAGE_MAX_BYTES = 256 * 1024;

/** A listed row: its id and its creation time as the cursor prints it. */
interface PagedRow {
  id: string;
  cursor_at: string;
}

export interface ListPage<T> {
  data: T[];
  next_cursor: string | null;
}

/**
 * The page of `rows` (one query's page, `next` its cursor when more rows follow) as items, cut at
 * `maxBytes` of serialised items.
 */
export function listPage<R extends PagedRow, T>(
  rows: readonly R[],
  next: ListCursor | undefined,
  toItem: (row: R) => T,
  maxBytes = LIST_PAGE_MAX_BYTES,
): ListPage<T> {
  const data: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const item = toItem(row);
    bytes += Buffer.byteLength(JSON.stringify(item));
    if (data.length > 0 && bytes > maxBytes) {
      const last = rows[data.length - 1] as R;
      return { data, next_cursor: encodeListCursor({ at: last.cursor_at, id: last.id }) };
    }
    data.push(item);
  }
  return { data, next_cursor: nextCursorParam(next) };
}
