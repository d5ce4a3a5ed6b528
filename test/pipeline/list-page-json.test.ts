/**
 * `listPageJson` (api/list-page.ts) answers the job list from the items' texts the byte budget
 * already made: its text must be exactly `JSON.stringify(listPage(…))`, cut or not, with or
 * without a next cursor, whatever the items hold (quotes, escapes, non-ASCII, nested values).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listPage, listPageJson } from '../../api/list-page.ts';

const row = fc.record({
  id: fc.uuid(),
  cursor_at: fc.constant('2026-12-06T21:00:00.123456Z'),
  label: fc.string({ unit: 'grapheme', maxLength: 40 }),
  size: fc.integer({ min: 0, max: 4000 }),
  extra: fc.jsonValue({ maxDepth: 3 }),
});

describe('listPageJson', () => {
  it('is JSON.stringify(listPage(…)) byte for byte, at any budget, with or without a next page', () => {
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 30 }),
        fc.option(fc.record({ at: fc.constant('2026-12-06T20:59:59.000001Z'), id: fc.uuid() }), { nil: undefined }),
        fc.integer({ min: 1, max: 20_000 }),
        (rows, next, maxBytes) => {
          const toItem = (r: (typeof rows)[number]) => ({ id: r.id, label: r.label, padding: 'x'.repeat(r.size), extra: r.extra, links: { self: `/api/jobs/${r.id}` } });
          const text = listPageJson(rows, next, toItem, maxBytes);
          expect(text).toBe(JSON.stringify(listPage(rows, next, toItem, maxBytes)));
          expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(listPage(rows, next, toItem, maxBytes))));
        },
      ),
      { numRuns: 300 },
    );
  });
});
