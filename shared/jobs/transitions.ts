/**
 * Every change of a job's state, each one conditional on the state it comes from, so that two
 * actors racing (a cancel and a worker, two workers after a lost lock, reconcile and a worker)
 * cannot both win. A final state is written in one transaction with what goes with it: the
 * result row (its primary key makes a second one impossible), the webhook deliveries of the
 * event, and the compute usage. The worker's starts and ends also come in batch forms (one
 * statement for many jobs, each row still decided by its own condition).
 */
import type { Knex } from 'knex';
import { type NamedStatement, runNamedStatement } from '../db.ts';
import { recordUsage, USAGE_METRICS } from '../usage.ts';
import { insertJobEventDeliveries, type JobEvent, jobEventBody, jobEventType, recordJobEvent, subscribedWebhookIds } from '../webhooks/job-events.ts';
import type { InlineArtefacts } from './inline-artefacts.ts';
import { stringifyWithPaths } from './result-json.ts';
import { JOB_BODY_COLUMNS, type JobBodyFields, resultSummary } from './job-body.ts';
import type { FinalStatus, JobError, JobRow, JobStatus } from './types.ts';

/** Milliseconds since a timestamp column, as an integer, on the database clock. */
const msSince = (column: string) => `greatest(0, round(extract(epoch from (now() - ${column})) * 1000))::int`;

export interface FinishJobInput {
  tenantId: string;
  jobId: string;
  status: FinalStatus;
  /** The states the job may be in for this transition to apply. */
  from: readonly JobStatus[];
  error?: JobError | null;
  /** The kernel's result (completed only). */
  result?: Record<string, unknown>;
  /** Only when the attempt that finishes is still the job's latest one. */
  attempt?: number;
  /** Completing also requires that nobody asked to cancel the job meanwhile. */
  requireNoCancel?: boolean;
  /** Compute to record as usage (`compute_cells`). */
  computeCells?: number;
  /** Only if the row was not touched (no worker heartbeat) after this time. */
  unchangedSince?: Date;
}

export interface FinishedJob<Row = JobRow> {
  row: Row;
  /** Webhook deliveries created for the event, to dispatch after commit. */
  deliveryIds: string[];
}

/** The columns {@link finishAttempts} returns of every row it ended: what followers are told (status, progress, state version), its tenant and batch. */
const FINISHED_FIELDS = ['id', 'tenant_id', 'status', 'progress', 'state_version', 'batch_id'] as const;

/** What {@link finishAttempts} returns of a row it ended. */
export type FinishedRow = Pick<JobRow, (typeof FINISHED_FIELDS)[number]>;

/** The columns the final write's `updated` returns: a job event's body, the tenant and the state version. */
const UPDATED_COLUMNS = [...JOB_BODY_COLUMNS, 'tenant_id', 'state_version'].map((column) => `j.${column}`).join(', ');

/** The body's columns a {@link FinishedRow} lacks: sent back only for a row whose event has endpoints to go to. */
const EVENT_COLUMNS = JOB_BODY_COLUMNS.filter((column) => !(FINISHED_FIELDS as readonly string[]).includes(column))
  .map((column) => `case when cardinality(h.ids) > 0 then u.${column} end as ${column}`)
  .join(', ');

/**
 * Moves a job to a final state inside `trx`. Returns undefined (and changes nothing) when the
 * job is not in one of `from` — someone else already decided its fate.
 */
export async function finishJob(trx: Knex.Transaction, input: FinishJobInput): Promise<FinishedJob | undefined> {
  const query = trx('jobs')
    .where({ id: input.jobId, tenant_id: input.tenantId })
    .whereIn('status', [...input.from]);
  if (input.attempt !== undefined) query.andWhere('attempts', input.attempt);
  if (input.requireNoCancel) query.whereNull('cancel_requested_at');
  // Compared at millisecond precision: the time came through JavaScript.
  if (input.unchangedSince) query.andWhereRaw(`date_trunc('milliseconds', updated_at) <= ?`, [input.unchangedSince]);
  const update = query
    .update({
      status: input.status,
      error: input.error ? trx.raw('?::jsonb', [JSON.stringify(input.error)]) : null,
      finished_at: trx.fn.now(),
      updated_at: trx.fn.now(),
      progress: input.status === 'completed' ? 1 : trx.raw('progress'),
      // Only an attempt that was running has a run time.
      run_ms: trx.raw(`case when status = 'running' and started_at is not null then ${msSince('started_at')} else run_ms end`),
      cancel_requested_at: input.status === 'cancelled' ? trx.raw('coalesce(cancel_requested_at, now())') : trx.raw('cancel_requested_at'),
    })
    .returning('*');
  const result = input.status === 'completed' ? (input.result ?? {}) : null;
  // The state and the result in one statement (one round trip); the result row's primary key
  // keeps a second result out.
  const [row] = result
    ? (
        await trx.raw<{ rows: JobRow[] }>(
          `with updated as (?), saved as (
             insert into job_results (job_id, tenant_id, result, summary)
             select id, tenant_id, ?::jsonb, ?::jsonb from updated
             on conflict (job_id) do nothing)
           select * from updated`,
          [update, stringifyWithPaths(result), JSON.stringify(resultSummary(result))],
        )
      ).rows
    : ((await update) as JobRow[]);
  if (!row) return undefined;
  const deliveryIds = await recordJobEvent(trx, row.tenant_id, jobEventType(input.status), jobEventBody(row, result));
  if (row.batch_id) deliveryIds.push(...(await takeBatchDeliveries(trx)));
  if (input.computeCells && input.computeCells > 0) {
    await recordUsage(trx, row.tenant_id, USAGE_METRICS.computeCells, input.computeCells);
  }
  return { row, deliveryIds };
}

/**
 * Marks jobs running for a new attempt, in one statement (the worker's group commit). A job
 * already `running` is accepted too: its previous worker died (or lost its lock) and BullMQ
 * handed the job to this one. Each row is decided on its own, as if started alone. Answers in
 * the order of `jobs`: undefined for a job that is final (or gone), which the caller drops
 * without running it. Job ids must be distinct.
 *
 * The start commits without waiting for its WAL flush (`synchronous_commit = off` for this
 * statement's transaction only): on this path that flush was most of a small job's `run_ms`,
 * and the job's final write, which commits synchronously, flushes the start with it. A start
 * lost in a PostgreSQL crash leaves the row `queued` as before the fetch, which reconcile
 * queues again: the job runs once more, as after a worker crash; no final state is ever lost.
 */
export async function startAttempts(
  db: Knex,
  workerId: string,
  jobs: ReadonlyArray<{ tenantId: string; jobId: string }>,
): Promise<Array<JobRow | undefined>> {
  if (jobs.length === 0) return [];
  const { rows } = await db.raw<{ rows: JobRow[] }>(
    `with async_commit as materialized (select set_config('synchronous_commit', 'off', true))
     update jobs j
        set status = 'running', attempts = j.attempts + 1, worker_id = ?, started_at = now(), updated_at = now(),
            progress = 0, queue_wait_ms = ${msSince('j.created_at')}
       from unnest(?::uuid[], ?::uuid[]) as s(id, tenant_id), async_commit
      where j.id = s.id and j.tenant_id = s.tenant_id and j.status in ('queued', 'running')
      returning j.*`,
    [workerId, jobs.map((j) => j.jobId), jobs.map((j) => j.tenantId)],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return jobs.map((j) => byId.get(j.jobId));
}

/**
 * Raises a queued or running row's attempt count to at least `attempts`, the times its entry came
 * back from lost workers that ran it on the tiny-job path, which records no start: the one-job
 * path that takes it over then counts on from there, not from the row's own count.
 */
export async function raiseAttempts(db: Knex, input: { tenantId: string; jobId: string; attempts: number }): Promise<void> {
  await db('jobs')
    .where({ id: input.jobId, tenant_id: input.tenantId })
    .whereIn('status', ['queued', 'running'])
    .andWhere('attempts', '<', input.attempts)
    .update({ attempts: input.attempts });
}

/**
 * Takes a batch chunk for a new attempt (docs/architecture.md › Batches): one statement raises the
 * chunk's attempt count (`job_chunks`, a row per chunk entry) and reads its rows that are still
 * `queued` or `running` (a `running` one was being run by an earlier attempt whose worker died or
 * lost the lock). No job row is written: a chunk's jobs stay `queued` until their kernel is seen
 * running ({@link startChunkJob}) or their final write. A row's attempt in this chunk is
 * {@link chunkJobAttempt}. Answers in the order of `jobs` (undefined for a row final or gone).
 *
 * Committed without waiting for its WAL flush, as {@link startAttempts}: a count lost in a
 * PostgreSQL crash only lets the chunk's jobs run once more than their limit.
 *
 * Each row is looked up by its key (the `offset 0` keeps the status test out of the lookup):
 * left to itself, the planner may read every queued row through `jobs_status_updated` and hash
 * them, once per chunk, when `jobs` has no statistics yet.
 */
export async function startChunk(
  db: Knex,
  workerId: string,
  entryId: string,
  jobs: ReadonlyArray<{ tenantId: string; jobId: string }>,
): Promise<{ attempt: number; rows: Array<JobRow | undefined> }> {
  const { rows } = await db.raw<{ rows: Array<JobRow & { chunk_attempt: number }> }>(
    `with async_commit as materialized (select set_config('synchronous_commit', 'off', true)),
     chunk as (
       insert into job_chunks (id, batch_id, attempts, worker_id, started_at)
       select ?, split_part(?, '.', 1)::uuid, 1, ?, now() from async_commit
       on conflict (id) do update set attempts = job_chunks.attempts + 1, worker_id = excluded.worker_id, started_at = now()
       returning attempts)
     select j.*, c.attempts as chunk_attempt
       from chunk c
       left join lateral (
         select j.* from unnest(?::uuid[], ?::uuid[]) as s(id, tenant_id)
           cross join lateral (select j.* from jobs j where j.id = s.id and j.tenant_id = s.tenant_id offset 0) j
          where j.status in ('queued', 'running')) j on true`,
    [entryId, entryId, workerId, jobs.map((j) => j.jobId), jobs.map((j) => j.tenantId)],
  );
  const attempt = rows[0]?.chunk_attempt ?? 1;
  const byId = new Map<string, JobRow>();
  // Each row keeps its `chunk_attempt` (not copied without it: forty columns a job, twice).
  for (const row of rows) if (row.id) byId.set(row.id, row);
  return { attempt, rows: jobs.map((j) => byId.get(j.jobId)) };
}

/** Every column of a job row, named (a prepared statement's `*` would fail once a migration adds one). */
const JOB_ROW_COLUMNS = [
  'id', 'tenant_id', 'lattice_id', 'type', 'status', 'lattice', 'params', 'cells', 'progress', 'attempts', 'max_attempts', 'idempotency_key',
  'request_hash', 'error', 'worker_id', 'cancel_requested_at', 'started_at', 'finished_at', 'queue_wait_ms', 'run_ms', 'created_at', 'updated_at',
  'lattice_version_id', 'memory_bytes', 'state_version', 'batch_id', 'batch_index', 'queue_entry', 'labels', 'artefacts',
] as const satisfies ReadonlyArray<keyof JobRow>;
// Every field of JobRow is read (a compile error names the one missing).
const everyJobRowColumn: Record<Exclude<keyof JobRow, (typeof JOB_ROW_COLUMNS)[number]>, never> = {};
void everyJobRowColumn;

/** {@link readJobsToRun}'s statement, prepared on each connection (parsed and planned once, not once a group of fetched jobs). */
const READ_JOBS_TO_RUN: NamedStatement = {
  name: 'catalytic_read_jobs_to_run_v1',
  text: `select ${JOB_ROW_COLUMNS.map((column) => `j.${column}`).join(', ')} from unnest($1::uuid[], $2::uuid[]) as s(id, tenant_id)
       cross join lateral (select j.* from jobs j where j.id = s.id and j.tenant_id = s.tenant_id offset 0) j
      where j.status in ('queued', 'running')`,
};

/**
 * Reads the rows of single jobs a worker fetched, without writing them: the worker runs a tiny
 * one inline and records its attempt, start and run time with its final state, as a chunk's
 * (docs/architecture.md › The job pipeline); any other job is then started by
 * {@link startAttempts}. Answers in the order of `jobs` (undefined for a row final or gone), each
 * row looked up by its key as {@link startChunk} does.
 */
export async function readJobsToRun(db: Knex, jobs: ReadonlyArray<{ tenantId: string; jobId: string }>): Promise<Array<JobRow | undefined>> {
  if (jobs.length === 0) return [];
  const rows = await runNamedStatement<JobRow>(db, READ_JOBS_TO_RUN, [jobs.map((j) => j.jobId), jobs.map((j) => j.tenantId)]);
  const byId = new Map(rows.map((row) => [row.id, row]));
  return jobs.map((j) => byId.get(j.jobId));
}

/**
 * A row's attempt in a chunk taken for its `chunkAttempt`-th time: one more than the row records,
 * and at least the chunk's count (the rows of a chunk whose worker was killed record nothing).
 */
export function chunkJobAttempt(row: Pick<JobRow, 'attempts'>, chunkAttempt: number): number {
  return Math.max(row.attempts + 1, chunkAttempt);
}

/**
 * Marks one job of a chunk `running` for `attempt` once its kernel is seen running (it did not
 * end before the event loop turned): the row then reads `running`, takes heartbeats, progress and
 * a cancel flag as a single job's does. Refused (undefined) when the row is final (cancelled
 * meanwhile, finished by another attempt) or a newer attempt owns it: the caller stops the kernel.
 * Returns the row's new `state_version`, and whether a cancel was asked for (the flag of a row an
 * earlier attempt had marked running). Committed without waiting for its WAL flush, as the
 * start of a single job.
 */
export async function startChunkJob(
  db: Knex,
  workerId: string,
  input: { tenantId: string; jobId: string; attempt: number },
): Promise<{ version: number; cancelRequested: boolean } | undefined> {
  const { rows } = await db.raw<{ rows: Array<{ state_version: number; cancel_requested: boolean }> }>(
    `with async_commit as materialized (select set_config('synchronous_commit', 'off', true))
     update jobs j
        set status = 'running', attempts = ?, worker_id = ?, started_at = now(), updated_at = now(),
            progress = 0, queue_wait_ms = ${msSince('j.created_at')}
       from async_commit
      where j.id = ? and j.tenant_id = ? and j.status in ('queued', 'running') and j.attempts < ?
      returning j.state_version, j.cancel_requested_at is not null as cancel_requested`,
    [input.attempt, workerId, input.jobId, input.tenantId, input.attempt],
  );
  const row = rows[0];
  return row && { version: row.state_version, cancelRequested: row.cancel_requested };
}

/**
 * Takes back a chunk attempt that ended by no fault of its jobs (a worker shutting down hands the
 * entry back), so the next one counts as this one did.
 */
export async function refundChunk(db: Knex, entryId: string, attempt: number): Promise<void> {
  await db('job_chunks').where({ id: entryId, attempts: attempt }).update({ attempts: attempt - 1 });
}

/** How one attempt ended, for {@link finishAttempts}. */
export interface FinishAttemptInput {
  tenantId: string;
  jobId: string;
  /** The attempt that finishes: the row must still be `running` with this attempt. */
  attempt: number;
  status: FinalStatus;
  error?: JobError | null;
  /** The kernel's result (completed only). */
  result?: Record<string, unknown>;
  /** Completing also requires that nobody asked to cancel the job meanwhile. */
  requireNoCancel?: boolean;
  /** Small artefacts kept in the result row (completed only). */
  inlineArtefacts?: InlineArtefacts;
  /**
   * A job of a batch chunk, whose row may still be `queued` (docs/architecture.md › Batches): its
   * final write also records the attempt, the worker, and its start and run time.
   */
  inChunk?: boolean;
  /** A chunk job's kernel time, ms (its row may record no start of its own). */
  runMs?: number;
}

/** The final write's input parameter: one JSON array for the whole group. */
function finalWriteInput(items: readonly FinishAttemptInput[]): string {
  return stringifyWithPaths(
    items.map((item) => ({
      id: item.jobId,
      tenant_id: item.tenantId,
      attempt: item.attempt,
      status: item.status,
      error: item.error ?? null,
      result: item.status === 'completed' ? (item.result ?? {}) : null,
      summary: item.status === 'completed' ? resultSummary(item.result ?? {}) : null,
      require_no_cancel: item.requireNoCancel === true,
      artefacts: item.status === 'completed' ? (item.inlineArtefacts ?? null) : null,
      chunk: item.inChunk === true,
      run_ms: Math.max(0, Math.round(item.runMs ?? 0)),
    })),
  );
}

/**
 * The final write's `input`, `updated` and `saved` (the states and the results), for `count` input
 * rows. `unheard`: when the tenant of any row has an enabled endpoint for its job event or for
 * `batch.completed` (`heard` lists those rows), no row is changed, so that what this statement
 * ends needs nothing more in its transaction — no delivery to insert, none for the batch trigger
 * to hand over — and a group is ended whole, by this statement or by a transaction, never in part.
 *
 * The input's size is told to the planner (`limit`: a set-returning function is taken for 100
 * rows), so it looks the rows up by key rather than hashing a scan of `jobs` once the table
 * has some thousands of rows and no statistics. The state version is raised here, which spares
 * the row trigger (migrations/0028_finish_write_plan.ts).
 */
function finalWriteCtes(count: number, unheard: boolean, positional = false): string {
  const [input, worker] = positional ? ['$1', '$2'] : ['?', '?'];
  return `with input as (
       select * from jsonb_to_recordset(${input}::jsonb)
         as i(id uuid, tenant_id uuid, attempt int, status text, error jsonb, result jsonb, summary jsonb, require_no_cancel boolean,
              artefacts jsonb, chunk boolean, run_ms int)
        limit ${count}
     ),${
       unheard
         ? ` heard as (
       select i.id from input i
        where exists (select 1 from webhooks w
                       where w.tenant_id = i.tenant_id and w.enabled and (('job.' || i.status) = any(w.events) or 'batch.completed' = any(w.events)))
     ),`
         : ''
     } updated as (
       update jobs j
          set status = i.status, error = i.error, finished_at = now(), updated_at = now(), state_version = j.state_version + 1,
              progress = case when i.status = 'completed' then 1 else j.progress end,
              run_ms = case when j.status = 'running' and j.started_at is not null then ${msSince('j.started_at')}
                            when i.chunk then i.run_ms else j.run_ms end,
              -- A chunk job never marked running: its start is its kernel's, on this clock.
              started_at = case when i.chunk and j.status = 'queued' then now() - make_interval(secs => i.run_ms / 1000.0) else j.started_at end,
              queue_wait_ms = case when i.chunk and j.status = 'queued' then greatest(0, ${msSince('j.created_at')} - i.run_ms) else j.queue_wait_ms end,
              worker_id = case when i.chunk and j.status = 'queued' then ${worker}::text else j.worker_id end,
              attempts = case when i.chunk then i.attempt else j.attempts end,
              cancel_requested_at = case when i.status = 'cancelled' then coalesce(j.cancel_requested_at, now()) else j.cancel_requested_at end
         from input i
        where j.id = i.id and j.tenant_id = i.tenant_id
          and (case when i.chunk
                    -- Still queued (attempts below this one: no later attempt recorded it), or running
                    -- for this attempt or an earlier one whose worker is gone.
                    then (j.status = 'queued' and j.attempts < i.attempt) or (j.status = 'running' and j.attempts <= i.attempt)
                    else j.status = 'running' and j.attempts = i.attempt end)
          and (not i.require_no_cancel or j.cancel_requested_at is null)${unheard ? ' and not exists (select 1 from heard)' : ''}
        returning ${unheard ? FINISHED_FIELDS.map((column) => `j.${column}`).join(', ') : UPDATED_COLUMNS}
     ), saved as (
       insert into job_results (job_id, tenant_id, result, summary, artefacts)
       select u.id, u.tenant_id, i.result, i.summary, i.artefacts from updated u join input i on i.id = u.id
        where u.status = 'completed'
       on conflict (job_id) do nothing
     )`;
}

/** The prepared unheard final writes, by the group size each is made for. */
const unheardStatements = new Map<number, NamedStatement>();

/**
 * The unheard final write for groups of up to `count` jobs, prepared on each connection (parsed and
 * planned once, not once a group: its planning alone cost PostgreSQL ~0.3 ms, more than running
 * it for a few jobs). One statement per power of two: its `limit` tells the planner the group's
 * size within a factor of two, as the unprepared statement's exact limit did.
 */
function unheardFinalWrite(count: number): NamedStatement {
  const size = 2 ** Math.ceil(Math.log2(Math.max(1, count)));
  let statement = unheardStatements.get(size);
  if (statement === undefined) {
    statement = {
      name: `catalytic_finish_unheard_v1_${size}`,
      text: `${finalWriteCtes(size, true, true)}
     select ${FINISHED_FIELDS.map((column) => `u.${column}`).join(', ')}, false as heard from updated u
     union all
     select ${FINISHED_FIELDS.map((column) => (column === 'id' ? 'h.id' : 'null')).join(', ')}, true from heard h`,
    };
    unheardStatements.set(size, statement);
  }
  return statement;
}

/** What {@link finishUnheardAttempts} answers for a group it left to {@link finishAttempts}: an endpoint hears of one of its jobs. */
export const HEARD = 'heard';

/**
 * {@link finishAttempts} for a group of jobs no endpoint hears of, in one statement outside any
 * transaction (it needs none: it ends states and stores results, and no delivery goes with
 * them). When the tenant of any of them has an enabled endpoint for its event or for
 * `batch.completed`, the statement changes nothing and answers {@link HEARD}, for the caller to
 * end the whole group with {@link finishAttempts} in a transaction; the endpoints are read in the
 * statement's own snapshot, as finishAttempts reads them. Otherwise answers in the order of
 * `items`: the job's row, or undefined when it had moved on.
 */
export async function finishUnheardAttempts(
  db: Knex,
  items: readonly FinishAttemptInput[],
  workerId: string | null = null,
): Promise<Array<FinishedJob<FinishedRow> | undefined> | typeof HEARD> {
  if (items.length === 0) return [];
  const rows = await runNamedStatement<FinishedRow & { heard: boolean }>(db, unheardFinalWrite(items.length), [finalWriteInput(items), workerId]);
  if (rows.some((row) => row.heard)) return HEARD;
  const byId = new Map(rows.map((row) => [row.id, row]));
  return items.map((item) => {
    const row = byId.get(item.jobId);
    return row && { row, deliveryIds: [] };
  });
}

/**
 * Ends many running attempts inside `trx` (the worker's group commit): one statement writes every
 * final state the row still allows (`running`, the same attempt, no cancel asked when required)
 * together with the result rows of completed ones (their primary key keeps a second one out; a
 * row also holds the job's small artefacts, if any), then one statement inserts the webhook
 * deliveries of all their events. Each job is decided on its own, as {@link finishJob} would;
 * answers in the order of `items` (undefined for a job whose row had moved on). Job ids must be
 * distinct.
 */
export async function finishAttempts(
  trx: Knex.Transaction,
  items: readonly FinishAttemptInput[],
  workerId: string | null = null,
): Promise<Array<FinishedJob<FinishedRow> | undefined>> {
  if (items.length === 0) return [];
  // The states and results in one statement; each row also brings the endpoints subscribed to
  // its event, read in the same snapshot as a separate statement would.
  // Each row brings its whole body only when its event goes somewhere (`webhook_ids`): parsing
  // timestamps and JSON of every tiny job that no endpoint hears of was a part of the worker's cost.
  const { rows } = await trx.raw<{ rows: Array<FinishedRow & Partial<JobBodyFields> & { webhook_ids: string[]; batch_hooks: boolean }> }>(
    `${finalWriteCtes(items.length, false)}
     select ${FINISHED_FIELDS.map((column) => `u.${column}`).join(', ')}, h.ids as webhook_ids, ${EVENT_COLUMNS},
            (select exists (select 1 from webhooks w
                             where w.tenant_id in (select tenant_id from updated) and w.enabled and 'batch.completed' = any(w.events))) as batch_hooks
       -- (offset 0: the endpoints are looked up once a row, not once for each column that reads them.)
       from updated u cross join lateral (select ${subscribedWebhookIds('u.tenant_id', `'job.' || u.status`)} as ids offset 0) h`,
    [finalWriteInput(items), workerId],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  const events: JobEvent[] = [];
  for (const item of items) {
    const row = byId.get(item.jobId);
    if (!row || row.webhook_ids.length === 0) continue;
    const result = item.status === 'completed' ? (item.result ?? {}) : null;
    events.push({ tenantId: row.tenant_id, type: jobEventType(item.status), job: jobEventBody(row as JobBodyFields, result), webhookIds: row.webhook_ids });
  }
  const deliveries = await insertJobEventDeliveries(trx, events);
  // A batch this write ended has its event too; it goes out with the first job's. Asked for only
  // when one of the tenants has an endpoint for it (`batch_hooks`): an endpoint created after this
  // statement's snapshot and seen by the batch trigger gets its delivery from the sender's sweep
  // of pending ones instead of right after commit.
  let batchDeliveries = rows[0]?.batch_hooks && rows.some((row) => row.batch_id) ? await takeBatchDeliveries(trx) : [];
  return items.map((item) => {
    // The row keeps its `webhook_ids` and `batch_hooks` (not copied without them).
    const row = byId.get(item.jobId);
    if (!row) return undefined;
    const own = deliveries.get(item.jobId);
    const deliveryIds = batchDeliveries.length === 0 ? (own ?? []) : [...(own ?? []), ...batchDeliveries];
    batchDeliveries = [];
    return { row, deliveryIds };
  });
}

/**
 * The `batch.completed` deliveries that the batch trigger (migrations/0013_batches.ts) wrote in
 * this transaction so far, forgotten once read: the writer dispatches them after commit, as it
 * does its jobs' events.
 */
export async function takeBatchDeliveries(trx: Knex.Transaction): Promise<string[]> {
  const { rows } = await trx.raw<{ rows: Array<{ ids: string | null }> }>(
    `with taken as materialized (select nullif(current_setting('catalytic.batch_deliveries', true), '') as ids)
     select ids, set_config('catalytic.batch_deliveries', '', true) from taken`,
  );
  const ids = rows[0]?.ids;
  return ids ? ids.split(',') : [];
}

/**
 * Puts a running job back to `queued` for a later attempt (`running → queued`), recording why
 * the attempt failed. `refund` takes the attempt back (a worker shutting down hands its jobs
 * back through no fault of theirs). Only the worker holding the attempt can do this. Returns the
 * row's new `state_version`, or undefined when the attempt no longer owned the row.
 */
export async function requeueAttempt(
  db: Knex,
  input: { tenantId: string; jobId: string; workerId: string; attempt: number; error?: JobError | null; refund?: boolean; inChunk?: boolean },
): Promise<number | undefined> {
  const query = db('jobs').where({ id: input.jobId, tenant_id: input.tenantId });
  // A chunk job's row may still be `queued` (never seen running): a retry records the attempt on
  // it; a refund has nothing to take back there.
  if (input.inChunk && !input.refund) {
    query.andWhere((w) =>
      w
        .where({ status: 'running', worker_id: input.workerId, attempts: input.attempt })
        .orWhere((q) => q.where('status', 'queued').andWhere('attempts', '<', input.attempt)),
    );
  } else query.andWhere({ status: 'running', worker_id: input.workerId, attempts: input.attempt });
  const [updated] = (await query
    .update({
      status: 'queued',
      worker_id: null,
      progress: 0,
      updated_at: db.fn.now(),
      ...(input.error ? { error: db.raw('?::jsonb', [JSON.stringify(input.error)]) } : {}),
      ...(input.refund ? { attempts: db.raw('greatest(attempts - 1, 0)') } : input.inChunk ? { attempts: input.attempt } : {}),
    })
    .returning('state_version')) as Array<{ state_version: number }>;
  return updated?.state_version;
}

/**
 * Records progress of a running attempt (never lowers it). Returns the row's new `state_version`
 * when the attempt still runs.
 */
export async function recordProgress(db: Knex, jobId: string, attempt: number, progress: number): Promise<number | undefined> {
  const [updated] = (await db('jobs')
    .where({ id: jobId, status: 'running', attempts: attempt })
    .update({ progress: db.raw('greatest(progress, ?)', [progress]), updated_at: db.fn.now() })
    .returning('state_version')) as Array<{ state_version: number }>;
  return updated?.state_version;
}

/**
 * Touches the running jobs a worker holds: `updated_at` is the worker's heartbeat, which
 * reconcile reads to tell a live worker from a dead one without trusting Redis. Returns the ids
 * of those whose cancel was requested, for a worker that missed the cancel message.
 */
export async function touchRunningJobs(db: Knex, jobIds: readonly string[]): Promise<string[]> {
  if (jobIds.length === 0) return [];
  const rows = (await db('jobs')
    .whereIn('id', [...jobIds])
    .andWhere('status', 'running')
    .update({ updated_at: db.fn.now() })
    .returning(['id', 'cancel_requested_at'])) as Array<{ id: string; cancel_requested_at: Date | null }>;
  return rows.filter((row) => row.cancel_requested_at !== null).map((row) => row.id);
}
