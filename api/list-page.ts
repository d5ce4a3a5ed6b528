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

/** A page's items, each serialised once, and the page's next cursor. */
interface SerialisedPage<T> {
  data: T[];
  texts: string[];
  next_cursor: string | null;
}

function serialisePage<R extends PagedRow, T>(rows: readonly R[], next: ListCursor | undefined, toItem: (row: R) => T, maxBytes: number): SerialisedPage<T> {
  const data: T[] = [];
  const texts: string[] = [];
  let bytes = 0;
  for (const row of rows) {
    const item = toItem(row);
    const text = JSON.stringify(item);
    bytes += Buffer.byteLength(text);
    if (data.length > 0 && bytes > maxBytes) {
      const last = rows[data.length - 1] as R;
      return { data, texts, next_cursor: encodeListCursor({ at: last.cursor_at, id: last.id }) };
    }
    data.push(item);
    texts.push(text);
  }
  return { data, texts, next_cursor: nextCursorParam(next) };
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
  const { data, next_cursor } = serialisePage(rows, next, toItem, maxBytes);
  return { data, next_cursor };
}

/**
 * `listPage` as its JSON text, the same bytes as `JSON.stringify(listPage(…))`, made from the
 * items' texts the byte budget already needed: each item is serialised once, not twice.
 */
export function listPageJson<R extends PagedRow, T>(
  rows: readonly R[],
  next: ListCursor | undefined,
  toItem: (row: R) => T,
  maxBytes = LIST_PAGE_MAX_BYTES,
): string {
  const { texts, next_cursor } = serialisePage(rows, next, toItem, maxBytes);
  return `{"data":[${texts.join(',')}],"next_cursor":${JSON.stringify(next_cursor)}}`;
}
