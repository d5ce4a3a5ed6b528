/**
 * Reads `timestamptz` values as the pg driver does (postgres-date), faster for the form a UTC
 * session writes: `2026-12-06 20:46:09.123456+00`. A job row holds five of them, and the worker
 * reads a row per job twice (taking its chunk, ending it): postgres-date's three regular
 * expressions per value were a visible part of a tiny job's CPU. Anything else (other zones,
 * BC, infinity, years below 100) goes to the driver's parser itself.
 */
import pg from 'pg';

/** The driver's own parser (postgres-date), taken before shared/db.ts registers this one. */
export const driverTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (text: string) => Date | number | null;

const ZERO = 48;

/** The number spelled by the ASCII digits text[from, to), or -1 when one is not a digit. */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let k = from; k < to; k++) {
    const digit = text.charCodeAt(k) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** A `timestamptz` column's text as a Date (or what postgres-date answers for the rare forms). */
export function parseTimestamptz(text: string): Date | number | null {
  const n = text.length;
  // YYYY-MM-DD HH:MM:SS, an optional fraction of 1 to 6 digits, then +00.
  if (
    n >= 22 &&
    n <= 29 &&
    n !== 23 &&
    text.charCodeAt(4) === 45 &&
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 32 &&
    text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58 &&
    text.charCodeAt(n - 3) === 43 &&
    text.charCodeAt(n - 2) === ZERO &&
    text.charCodeAt(n - 1) === ZERO &&
    (n === 22 || (text.charCodeAt(19) === 46 && digits(text, 20, n - 3) >= 0))
  ) {
    const year = digits(text, 0, 4);
    const month = digits(text, 5, 7);
    const day = digits(text, 8, 10);
    const hour = digits(text, 11, 13);
    const minute = digits(text, 14, 16);
    const second = digits(text, 17, 19);
    // Years 0–99 need postgres-date's correction (Date.UTC reads them as 19xx).
    if (year >= 100 && month >= 0 && day >= 0 && hour >= 0 && minute >= 0 && second >= 0) {
      // The fraction as postgres-date computes it (1000 × parseFloat), so that both truncate alike.
      const ms = n === 22 ? 0 : 1000 * parseFloat(text.slice(19, n - 3));
      return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
    }
  }
  return driverTimestamptz(text);
}
