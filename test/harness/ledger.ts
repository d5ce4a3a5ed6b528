/**
 * The books after a run: compares what clients were promised (every job that got a 202) with
 * what PostgreSQL holds and what the webhook endpoints received, and counts what went wrong.
 *
 * - lost: an accepted job missing from PostgreSQL, or not in a final state when the run settled;
 * - duplicates: a second result row, a result for a job that did not complete, a second distinct
 *   event (webhook-id) for one job at one endpoint, a job row no client was answered for;
 * - webhooks: every final job's event at its tenant's endpoint, delivered (2xx) and verified.
 */
import type { Db } from '../../shared/db.ts';
import type { AcceptedJob } from './job-stream.ts';
import type { WebhookReceiver } from './webhook-receiver.ts';

const FINAL = new Set(['completed', 'failed', 'cancelled']);

export interface LedgerCounts {
  accepted: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Jobs that took more than one attempt. */
  retried: number;
  duplicates: number;
  lost: number;
  webhooks: {
    expected: number;
    delivered: number;
    missing: number;
    /** Events that needed more than one request (a failed attempt, a retry). */
    retriedEvents: number;
    /** Requests whose signature did not verify. */
    unverified: number;
  };
}

export interface Ledger {
  counts: LedgerCounts;
  /** One line per broken promise (empty when all held). */
  problems: string[];
  /** Jobs that failed, with their error (a final state, but worth a look after a fault). */
  failures: Array<{ id: string; error: unknown }>;
}

interface JobRow {
  id: string;
  tenant_id: string;
  status: string;
  attempts: number;
  error: { code?: string } | null;
}

/** Runs `fn`, retrying while PostgreSQL is unreachable (a suite may have stopped it). */
async function retrying<T>(fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function rowsOf(db: Db, ids: readonly string[]): Promise<JobRow[]> {
  const rows: JobRow[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    rows.push(...((await db('jobs').whereIn('id', chunk).select('id', 'tenant_id', 'status', 'attempts', 'error')) as JobRow[]));
  }
  return rows;
}

/** Waits until every job is final (or the time is up); returns the ids still not final. */
export async function waitForFinal(db: Db, ids: readonly string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...ids];
  while (pending.length > 0 && Date.now() < deadline) {
    const rows = await retrying(() => rowsOf(db, pending)).catch(() => undefined);
    if (rows) {
      const final = new Set(rows.filter((r) => FINAL.has(r.status)).map((r) => r.id));
      pending = pending.filter((id) => !final.has(id));
    }
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 250));
  }
  return pending;
}

/** The event each final job owes its tenant's endpoint. */
function expectedEvent(row: JobRow): string {
  return `job.${row.status}`;
}

/**
 * Waits until every final job's event reached its tenant's endpoint (`paths` maps tenant → path),
 * or the time is up.
 */
export async function waitForWebhooks(db: Db, receiver: WebhookReceiver, ids: readonly string[], paths: ReadonlyMap<string, string>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await retrying(() => rowsOf(db, ids));
    const delivered = deliveredEvents(receiver);
    const missing = rows.filter((r) => FINAL.has(r.status) && !delivered.has(`${paths.get(r.tenant_id)}|${r.id}|${expectedEvent(r)}`));
    if (missing.length === 0 || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `path|jobId|type` of every event delivered (answered 2xx) with a verified signature. */
function deliveredEvents(receiver: WebhookReceiver): Set<string> {
  const delivered = new Set<string>();
  for (const e of receiver.events.values()) if (e.accepted > 0 && e.verified > 0) delivered.add(`${e.path}|${e.jobId}|${e.type}`);
  return delivered;
}

/**
 * Balances the books for `accepted` (the jobs of one run). `tenantIds` bounds the orphan check
 * to the run's tenants and `since` to the run's time.
 */
export async function balance(
  db: Db,
  accepted: ReadonlyMap<string, AcceptedJob>,
  receiver: WebhookReceiver,
  paths: ReadonlyMap<string, string>,
  options: { since: Date; knownIds?: ReadonlySet<string> },
): Promise<Ledger> {
  const problems: string[] = [];
  const failures: Ledger['failures'] = [];
  const ids = [...accepted.keys()];
  const rows = await retrying(() => rowsOf(db, ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const counts: LedgerCounts = {
    accepted: ids.length,
    completed: 0,
    failed: 0,
    cancelled: 0,
    retried: 0,
    duplicates: 0,
    lost: 0,
    webhooks: { expected: 0, delivered: 0, missing: 0, retriedEvents: 0, unverified: receiver.unverified },
  };

  for (const id of ids) {
    const row = byId.get(id);
    if (!row) {
      counts.lost++;
      problems.push(`job ${id} was accepted but is not in PostgreSQL`);
      continue;
    }
    if (!FINAL.has(row.status)) {
      counts.lost++;
      problems.push(`job ${id} is still ${row.status} (attempts ${row.attempts})`);
      continue;
    }
    if (row.status === 'completed') counts.completed++;
    else if (row.status === 'failed') {
      counts.failed++;
      failures.push({ id, error: row.error });
    } else counts.cancelled++;
    if (row.attempts > 1) counts.retried++;
    const job = accepted.get(id) as AcceptedJob;
    if (row.status === 'cancelled' && !job.cancelRequested) problems.push(`job ${id} is cancelled but nobody cancelled it`);
  }

  // Results: exactly one per completed job, none for the others.
  const results = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const found = (await retrying(() => db('job_results').whereIn('job_id', chunk).select('job_id').count('* as n').groupBy('job_id'))) as Array<{
      job_id: string;
      n: string;
    }>;
    for (const r of found) results.set(r.job_id, Number(r.n));
  }
  for (const row of rows) {
    const n = results.get(row.id) ?? 0;
    if (row.status === 'completed' && n !== 1) {
      if (n > 1) counts.duplicates += n - 1;
      problems.push(`completed job ${row.id} has ${n} result rows`);
    }
    if (row.status !== 'completed' && n > 0) {
      counts.duplicates += n;
      problems.push(`${row.status} job ${row.id} has ${n} result rows`);
    }
  }

  // Job rows of these tenants no client was answered for (a submission done twice).
  const tenantIds = [...new Set([...accepted.values()].map((j) => j.tenantId))];
  const known = options.knownIds ?? new Set(ids);
  const since = options.since;
  const recent = (await retrying(() => db('jobs').whereIn('tenant_id', tenantIds).andWhere('created_at', '>=', since).select('id'))) as Array<{ id: string }>;
  for (const { id } of recent) {
    if (!known.has(id)) {
      counts.duplicates++;
      problems.push(`job ${id} exists but no submission was answered with it`);
    }
  }

  // Webhooks: one distinct event per final job at its endpoint, of the type of its final state.
  const eventsByJob = new Map<string, string[]>();
  for (const e of receiver.events.values()) {
    if (!e.jobId || !byId.has(e.jobId)) continue;
    const key = `${e.path}|${e.jobId}`;
    eventsByJob.set(key, [...(eventsByJob.get(key) ?? []), e.webhookId]);
    if (e.requests > 1) counts.webhooks.retriedEvents++;
  }
  const delivered = deliveredEvents(receiver);
  for (const row of rows) {
    if (!FINAL.has(row.status)) continue;
    const path = paths.get(row.tenant_id);
    counts.webhooks.expected++;
    if (delivered.has(`${path}|${row.id}|${expectedEvent(row)}`)) counts.webhooks.delivered++;
    else {
      counts.webhooks.missing++;
      problems.push(`job ${row.id} (${row.status}): no verified ${expectedEvent(row)} event delivered to ${path}`);
    }
    const distinct = eventsByJob.get(`${path}|${row.id}`) ?? [];
    if (distinct.length > 1) {
      counts.duplicates += distinct.length - 1;
      problems.push(`job ${row.id}: ${distinct.length} distinct events (${distinct.join(', ')}) at ${path}`);
    }
  }
  if (receiver.unverified > 0) problems.push(`${receiver.unverified} webhook requests did not verify`);
  return { counts, problems, failures };
}
