/**
 * The keyset cursor of every newest-first list (jobs, lattices, webhook deliveries): a position
 * `(created_at, id)`, opaque to clients. `at` is the timestamp as PostgreSQL prints it with
 * microseconds (a JS Date would drop them and skip rows).
 *
 * A cursor is untrusted input that ends up in `?::timestamptz` and `?::uuid` casts, so decoding
 * accepts only values those casts take: a real calendar instant (no 13th month, no 30 February,
 * no year 0) and a well-formed UUID. Anything else is a 400, never a database error.
 */
import { AppError } from './errors.ts';

/** A position in a newest-first listing: a creation time (microseconds, UTC) and an id. */
export interface ListCursor {
  at: string;
  id: string;
}

const AT = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeListCursor(cursor: ListCursor): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`).toString('base64url');
}

/** A list answer's `next_cursor`: the next page's cursor encoded, or null on the last page. */
export function nextCursorParam(next: ListCursor | undefined): string | null {
  return next ? encodeListCursor(next) : null;
}

/** The cursor in `text`, or undefined for anything this API did not hand out. */
export function decodeListCursor(text: string): ListCursor | undefined {
  const [at, id, extra] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || at === undefined || id === undefined || !UUID.test(id)) return undefined;
  const year = AT.exec(at)?.[1];
  if (year === undefined || Number(year) < 1) return undefined;
  // The calendar check: an impossible date or time does not survive the round trip.
  const seconds = at.slice(0, 19);
  const ms = Date.parse(`${seconds}Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== seconds) return undefined;
  return { at, id };
}

/**
 * The `cursor` query parameter of a list route, decoded: undefined when absent, a 400
 * `validation_failed` naming `query.cursor` when it is not a cursor this API gave out.
 */
export function listCursorParam(text: string | undefined): ListCursor | undefined {
  if (text === undefined) return undefined;
  const cursor = decodeListCursor(text);
  if (!cursor) {
    const message = 'not a cursor this API gave out';
    throw new AppError('validation_failed', `query.cursor: ${message}`, { extra: { errors: [{ path: 'query.cursor', message }] } });
  }
  return cursor;
}
