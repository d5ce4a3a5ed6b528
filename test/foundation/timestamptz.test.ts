/**
 * shared/timestamptz.ts reads every `timestamptz` text as the driver's own parser (postgres-date)
 * does: random UTC values with 0 to 6 fraction digits, the forms it leaves to the driver (other
 * zones, BC, infinity, years below 100, malformed text), and values PostgreSQL itself wrote.
 */
import { describe, expect, it } from 'vitest';
import { driverTimestamptz, parseTimestamptz } from '../../shared/timestamptz.ts';
import { useTestEnvironment } from '../support/context.ts';

/** A seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');
const same = (text: string): void => {
  const ours = parseTimestamptz(text);
  const theirs = driverTimestamptz(text);
  const key = (v: Date | number | null) => (v instanceof Date ? `date ${v.getTime()}` : `${typeof v} ${String(v)}`);
  expect(key(ours), text).toBe(key(theirs));
};

describe('timestamptz text', () => {
  it('reads random UTC timestamps with 0 to 6 fraction digits as the driver does', () => {
    const next = random(0x5eed);
    const int = (below: number) => Math.floor(next() * below);
    for (let k = 0; k < 20_000; k++) {
      const digits = int(7);
      const fraction = digits === 0 ? '' : `.${Array.from({ length: digits }, () => int(10)).join('')}`;
      same(`${pad(100 + int(9900), 4)}-${pad(1 + int(12), 2)}-${pad(1 + int(31), 2)} ${pad(int(24), 2)}:${pad(int(60), 2)}:${pad(int(60), 2)}${fraction}+00`);
    }
  });

  it('leaves other forms to the driver and reads them alike', () => {
    for (const text of [
      '2026-12-06 20:46:09.1+01',
      '2026-12-06 20:46:09.123456-05:30',
      '2026-12-06 20:46:09Z',
      '0044-03-15 12:00:00+00',
      '0099-12-31 23:59:59.999999+00',
      '0001-01-01 00:00:00+00 BC',
      'infinity',
      '-infinity',
      '12026-12-06 20:46:09+00',
      '2026-12-06 20:46:09.+00',
      '2026-12-06 20:46:09.1234567+00',
      '2026-12-06T20:46:09+00',
      '2026-1x-06 20:46:09+00',
      '2026-12-06 20:46:09.12a+00',
      '2026-12-06',
      'not a date',
    ]) {
      same(text);
    }
  });

  const env = useTestEnvironment();

  it('reads what PostgreSQL writes as the driver does, by the fast path', async () => {
    const db = env.db;
    const { rows } = await db.raw<{ rows: Array<{ t: string }> }>(
      `select (timestamptz '2026-01-01 00:00:00+00' + random() * interval '30 years' - interval '15 years')::text as t from generate_series(1, 2000)`,
    );
    for (const { t } of rows) same(t);
    // The session writes the UTC form the fast path reads (else it would never be taken).
    expect(rows.every(({ t }) => t.endsWith('+00'))).toBe(true);
    const { rows: typed } = await db.raw<{ rows: Array<{ t: Date; text: string }> }>(`select now() as t, now()::text as text`);
    expect(typed[0]!.t.getTime()).toBe((driverTimestamptz(typed[0]!.text) as Date).getTime());
  });
});
