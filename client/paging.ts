/** Cursor paging shared by every list resource: `GET …?cursor=` until `next_cursor` is null. */

/** A page as the list routes answer it. */
export interface CursorPage<T> {
  data: T[];
  next_cursor: string | null;
}

/** Every item of a cursor-paged list, fetching the next page only when the caller wants it. */
export async function* everyItem<T, Q extends object>(
  list: (query: Q & { cursor?: string }) => Promise<CursorPage<T>>,
  query: Q,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await list({ ...query, cursor });
    yield* page.data;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
}
