/**
 * The text of a job list page (`listJobs`), and the two shapes of it that are prepared: the newest
 * page and the page after a cursor, with no filter. See docs/performance.md › Mixed load.
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
 * The prepared statement that reads at least `limit + 1` rows of an unfiltered list — the newest
 * (`$1` the tenant) or after a cursor (`$2` its time, `$3` its id) — or undefined when `limit` is
 * beyond every prepared size. Its LIMIT is `rows`.
 */
export function preparedPage(limit: number, afterCursor: boolean): { statement: PreparedStatement; rows: number } | undefined {
  const size = PREPARED_SIZES.find((s) => s >= limit);
  if (size === undefined) return undefined;
  const rows = size + 1;
  return afterCursor
    ? {
        rows,
        statement: {
          name: `catalytic_list_jobs_after_v1_${rows}`,
          params: ['uuid', 'timestamptz', 'uuid'],
          text: pageText('j.tenant_id = $1 and (j.created_at, j.id) < ($2, $3)', rows),
        },
      }
    : { rows, statement: { name: `catalytic_list_jobs_v1_${rows}`, params: ['uuid'], text: pageText('j.tenant_id = $1', rows) } };
}
