/**
 * The text of a job list page (`listJobs`), and its prepared shapes: the newest page and the page
 * after a cursor, with any combination of the route's filters but labels. See docs/performance.md
 * › Mixed load.
 *
 * Planning a page cost PostgreSQL about three times what running it does (EXPLAIN: 1.3–1.9 ms
 * against 0.3–0.4). A prepared page is planned once per connection. Its LIMIT is written into the
 * text, not a parameter: a generic plan that cannot know the LIMIT assumes a tenth of the rows
 * and cost more than planning each time (measured and withdrawn earlier). So each shape is
 * prepared for a few page sizes, and a request reads the smallest that holds its page plus one
 * (the next page's marker); the rows past that are dropped, which the total order
 * (`created_at`, `id`) makes the same page.
 */
import type { PreparedStatement } from '../db.ts';
import { JOB_BODY_COLUMNS } from './job-body.ts';

/** The page's own columns: read before the join, so results are looked up for its rows only. */
export const PAGE_COLUMNS = [...JOB_BODY_COLUMNS, 'tenant_id'].map((column) => `j.${column}`).join(', ');

/** What a listed row carries: its body's columns, its result's summary, and its cursor position. */
export const LISTED_COLUMNS = [
  ...JOB_BODY_COLUMNS.map((column) => `j.${column}`),
  'r.summary as result_summary',
  `to_char(j.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`,
].join(', ');

/** A page of the rows `where` selects, newest first, `rows` at most, with result summaries. */
export function pageText(where: string, rows: number): string {
  if (!Number.isInteger(rows) || rows < 1) throw new Error('a job list page needs a positive whole number of rows');
  return `select ${LISTED_COLUMNS}
            from (select ${PAGE_COLUMNS} from jobs j
                   where ${where}
                   order by j.created_at desc, j.id desc
                   limit ${rows}) j
            left join job_results r on r.job_id = j.id and r.tenant_id = j.tenant_id and j.status = 'completed'
           order by j.created_at desc, j.id desc`;
}

/** Page sizes prepared (the route allows 1–100; 20 is its default). */
const PREPARED_SIZES = [10, 20, 50, 100] as const;

/**
 * The filters a prepared list may have, in the order their parameters follow the tenant's (`$2`,
 * …), each with its letter in a statement's name, its parameter's type and its condition. Their
 * generic plans are those planned each time for any value (EXPLAIN at 1,000,000 jobs, see
 * docs/performance.md). A label filter is not among them: not knowing the label, the generic plan
 * walks the tenant's newest jobs, not the label index, and a rare label made it read them all
 * (0.8 s against 0.13 s planned), so a list with a label is planned each time.
 */
const FILTERS = {
  status: { letter: 's', type: 'text', where: (p: string) => `j.status = ${p}` },
  type: { letter: 't', type: 'text', where: (p: string) => `j.type = ${p}` },
  batchId: { letter: 'b', type: 'uuid', where: (p: string) => `j.batch_id = ${p}` },
  createdAfter: { letter: 'c', type: 'timestamptz', where: (p: string) => `j.created_at > ${p}` },
} as const;

export type ListFilter = keyof typeof FILTERS;
export const LIST_FILTERS = Object.keys(FILTERS) as ListFilter[];

/**
 * The condition of filter `name` on an escaped literal (`sql`), cast to the type its prepared
 * parameter has: the text a list planned each time carries, the same condition as prepared.
 */
export function plannedFilterCondition(name: ListFilter, literal: string): string {
  const filter = FILTERS[name];
  return filter.where(`${literal}::${filter.type}`);
}

/**
 * The prepared statement that reads at least `limit + 1` rows of a list with the filters in
 * `filters` (any of LIST_FILTERS, none for the unfiltered list) — the newest, or after a cursor —
 * or undefined when `limit` is beyond every prepared size. Its parameters: `$1` the tenant, then
 * one per filter in LIST_FILTERS order, then the cursor's time and id. Its LIMIT is `rows`.
 *
 * One statement per filter combination, page size and cursor or none: at most 16 × 4 × 2 = 128
 * names, and a connection prepares only those its requests ask for (unfiltered pages keep their
 * earlier names).
 */
export function preparedPage(limit: number, afterCursor: boolean, filters: ReadonlySet<ListFilter> = new Set()): { statement: PreparedStatement; rows: number } | undefined {
  const size = PREPARED_SIZES.find((s) => s >= limit);
  if (size === undefined) return undefined;
  const rows = size + 1;
  const params = ['uuid'];
  const where = ['j.tenant_id = $1'];
  let letters = '';
  for (const name of LIST_FILTERS) {
    if (!filters.has(name)) continue;
    const filter = FILTERS[name];
    params.push(filter.type);
    where.push(filter.where(`$${params.length}`));
    letters += filter.letter;
  }
  if (afterCursor) {
    params.push('timestamptz', 'uuid');
    where.push(`(j.created_at, j.id) < ($${params.length - 1}, $${params.length})`);
  }
  const shape = `${letters ? `_${letters}` : ''}${afterCursor ? '_after' : ''}`;
  return { rows, statement: { name: `catalytic_list_jobs${shape}_v1_${rows}`, params, text: pageText(where.join(' and '), rows) } };
}
