/**
 * Writes a batch of one tenant's job submissions — inline ones in one round trip (with the quota
 * locks and usage read in it on a plan with monthly quotas), any on a stored lattice in one
 * `withTenant` transaction (lattices read once, quota checked once, one multi-row insert that
 * counts usage) — then one queue round trip and one ready-set mark, each submission keeping the
 * outcome it would have had alone. See docs/architecture.md › The job pipeline.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { computeUnits } from '../../shared/compute-units.ts';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { coalesceTinyJobs, type CoalesceLimits } from '../../shared/jobs/coalesced-entries.ts';
import { artefactsListed } from '../../shared/jobs/job-artefact-names.ts';
import { checkedJobReservation, checkJobMemory, type JobMemorySettings, queuedJobOf } from '../../shared/jobs/job-memory.ts';
import { checkLatticeAgainstPlan, checkParsedJob, checkParsedLattice } from '../../shared/jobs/lattice-checks.ts';
import { writeJobsAsTenant } from '../../shared/jobs/insert-statement.ts';
import { writeJobsWithinQuotas } from '../../shared/jobs/quota-insert-statement.ts';
import { insertJobs, type NewJob } from '../../shared/jobs/repository.ts';
import type { JobRow } from '../../shared/jobs/types.ts';
import type { CheckedLattice } from '../../shared/lattice/resolve.ts';
import type { LatticeSpec } from '../../shared/lattice/types.ts';
import { jobSubmitBatchSize, jobsSubmitted } from '../../shared/metrics.ts';
import { currentVersionHeads } from '../lattices/store.ts';
import type { Plan } from '../../shared/plans.ts';
import type { JobProducer, QueuedChunkRef, QueuedJobRef } from '../../shared/queues/producer.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { recordUsage, USAGE_METRICS, usageDay } from '../../shared/usage.ts';
import type { SubmitJobInput } from '../../shared/wire/jobs.ts';
import type { ItemOutcome } from './submit-batcher.ts';
import { checkJobCompute, computeQuotaExceeded, computeRoom, jobsRoom, quotaExactMargin, quotaExceeded } from './submit-quota.ts';

/**
 * A job submission as the route's schema (`SubmitJobBody`) parsed it: its lattice spec and
 * parameters are not parsed again here, only checked against each other, the plan and memory.
 */
export type SubmitInput = SubmitJobInput;

/** One submission on its way to a write. All submissions of one write share tenant and plan. */
export interface Submission {
  tenantId: string;
  plan: Plan;
  /** Every plan, to name one that allows what this plan refuses. */
  plans?: readonly Plan[];
  input: SubmitInput;
  idempotencyKey: string | null;
  requestHash: string | null;
  /** The checked row, when the lattice came inline; a stored lattice is read and checked in the write. */
  job?: NewJob;
}

/** What a write did for one submission: its row, or undefined when its idempotency key was taken. */
export type SubmissionOutcome = ItemOutcome<JobRow | undefined>;

/**
 * The checked content of a job: its inline lattice (defaults filled in, canonical) or the stored
 * lattice version it runs on, its parameters and cell count.
 */
export interface CheckedJob {
  lattice: LatticeSpec | null;
  latticeVersionId: string | null;
  params: Record<string, unknown>;
  cells: number;
  memoryBytes: number;
  computeUnits: number;
}

/**
 * Validates a job against the engine and the plan (lattice, plan limits, parameters against the
 * lattice, compute units per job). A stored lattice comes as its version's head, checked once per
 * write: its obstacle list has no bearing on the job's validity (a job's own cells are always
 * open), so it is neither read nor copied here.
 */
export function checkJobContent(
  input: SubmitInput,
  plan: Plan,
  plans: readonly Plan[],
  memory: JobMemorySettings,
  stored?: { versionId: string | null; checked: CheckedLattice },
  field = 'body.lattice',
): CheckedJob {
  const checked = stored?.checked ?? checkParsedLattice(inlineLattice(input), field);
  checkLatticeAgainstPlan(checked.summary, plan, plans);
  const params = checkParsedJob(input.type, checked, input.params);
  const units = computeUnits(input.type, checked.summary.cells, params, checked.summary.dimensions);
  checkJobCompute(units, plan, plans);
  // A stored lattice's head carries no obstacle list: its explicit cells are bounded by its cells.
  const memoryBytes = checkedJobReservation(input.type, checked, params, memory.KERNEL_THREADS, artefactsListed(input));
  checkJobMemory(memoryBytes, memory);
  // A stored lattice's jobs point at its version; an inline one (checked once for a batch) is copied.
  return { lattice: stored?.versionId ? null : checked.spec, latticeVersionId: stored?.versionId ?? null, params, cells: checked.summary.cells, memoryBytes, computeUnits: units };
}

/** The inline lattice of a submission without `lattice_id` (the body's schema requires one of the two). */
function inlineLattice(input: SubmitInput): LatticeSpec {
  if (!input.lattice) throw new Error('a submission has neither lattice_id nor lattice');
  return input.lattice;
}

/**
 * How a write goes: a submission on a stored lattice needs a transaction (the lattice locked and
 * its head read before the write); inline ones are one round trip, with their quota locks and
 * usage read in it when the plan has monthly quotas.
 */
function writePath(plan: Plan, submissions: readonly Submission[]): 'transaction' | 'quotas' | 'plain' {
  if (submissions.some((s) => !s.job)) return 'transaction';
  return plan.jobs_per_month >= 0 || plan.compute_units_per_month >= 0 ? 'quotas' : 'plain';
}

/** PostgreSQL refused a row's data (SQLSTATE classes 22 and 23), not the batch as a whole. */
function isRowDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

export class SubmissionWriter {
  /** Within this many jobs of the monthly limit, writes decide under the tenant's lock. */
  private readonly quotaMargin: number;
  /** Which jobs of a write share a queue entry (shared/jobs/coalesced-entries.ts). */
  private readonly coalesce: CoalesceLimits;

  constructor(
    private readonly runtime: Runtime,
    private readonly producer: JobProducer,
  ) {
    const { config } = runtime;
    this.quotaMargin = quotaExactMargin(config);
    this.coalesce = { inlineMaxCells: config.KERNEL_INLINE_MAX_CELLS, maxJobs: config.BATCH_CHUNK_MAX_JOBS, maxCells: config.BATCH_CHUNK_MAX_CELLS };
  }

  /** The row of a submission with an inline lattice, checked: throws the problem of an invalid job. */
  prepareInline(submission: Omit<Submission, 'job'>): NewJob {
    // A map is checked against its tenant and shape where a lattice is stored; an inline spec skips that.
    const obstacles = (submission.input.lattice as { obstacles?: object } | undefined)?.obstacles;
    if (obstacles && 'map' in obstacles) {
      const message = 'An inline lattice cannot name an uploaded map: submit with the lattice_id of a stored lattice that uses it';
      throw new AppError('lattice_invalid', message, { extra: { field: 'body.lattice.obstacles.map', errors: [{ path: 'body.lattice.obstacles.map', message }] } });
    }
    return this.newJob(submission, checkJobContent(submission.input, submission.plan, submission.plans ?? [], this.runtime.config));
  }

  private newJob(submission: Omit<Submission, 'job'>, checked: CheckedJob): NewJob {
    return {
      id: randomUUID(),
      tenantId: submission.tenantId,
      latticeId: submission.input.lattice_id ?? null,
      latticeVersionId: checked.latticeVersionId,
      type: submission.input.type,
      lattice: checked.lattice,
      params: checked.params,
      cells: checked.cells,
      memoryBytes: checked.memoryBytes,
      computeUnits: checked.computeUnits,
      maxAttempts: this.runtime.config.JOB_MAX_ATTEMPTS,
      idempotencyKey: submission.idempotencyKey,
      requestHash: submission.requestHash,
      labels: submission.input.labels ?? null,
      artefacts: artefactsListed(submission.input),
    };
  }

  /**
   * Writes submissions of one tenant and plan in one transaction, counting them in the usage
   * counters' `lane` (a tenant's concurrent writes take different lanes, see USAGE_LANES); one
   * outcome per submission, in order.
   */
  async write(submissions: readonly Submission[], lane = 0): Promise<SubmissionOutcome[]> {
    jobSubmitBatchSize.observe(submissions.length);
    try {
      return await this.writeTogether(submissions, lane);
    } catch (err) {
      if (submissions.length === 1 || !isRowDataError(err)) throw err;
      const outcomes: SubmissionOutcome[] = [];
      for (const submission of submissions) {
        outcomes.push(
          await this.writeTogether([submission], lane).then(
            (one) => one[0] as SubmissionOutcome,
            (error: unknown) => ({ ok: false as const, error }),
          ),
        );
      }
      return outcomes;
    }
  }

  private async writeTogether(submissions: readonly Submission[], lane: number): Promise<SubmissionOutcome[]> {
    const first = submissions[0];
    if (!first) return [];
    const { tenantId, plan } = first;
    if (submissions.some((s) => s.tenantId !== tenantId || s.plan.code !== plan.code)) {
      throw new Error('a submission write mixes tenants or plans');
    }
    const outcomes: SubmissionOutcome[] = new Array<SubmissionOutcome>(submissions.length);
    const path = writePath(plan, submissions);
    const rows =
      path === 'transaction'
        ? await this.writeInTransaction(submissions, outcomes, lane)
        : path === 'quotas'
          ? await this.writeWithinQuotas(submissions, outcomes, lane)
          : await this.writeInOneRoundTrip(submissions, lane);
    for (const { index, row } of rows) {
      outcomes[index] = { ok: true, value: row };
      if (row) jobsSubmitted.inc({ type: row.type, plan: plan.code });
    }
    return outcomes;
  }

  /** Inline submissions on a plan without monthly quotas: one statement, one round trip (shared/jobs/insert-statement.ts). */
  private async writeInOneRoundTrip(submissions: readonly Submission[], lane: number): Promise<Array<{ index: number; row: JobRow | undefined }>> {
    const jobs = submissions.map((s) => s.job as NewJob);
    coalesceTinyJobs(jobs, this.coalesce);
    const inserted = await writeJobsAsTenant(this.runtime.db, (submissions[0] as Submission).tenantId, jobs, { lane });
    return inserted.map((row, index) => ({ index, row }));
  }

  /**
   * Inline submissions on a plan with monthly quotas: the quota locks, the usage read, the insert
   * and the counts in one round trip (shared/jobs/quota-insert-statement.ts), each refusal what the
   * transaction path would have answered.
   */
  private async writeWithinQuotas(
    submissions: readonly Submission[],
    outcomes: SubmissionOutcome[],
    lane: number,
  ): Promise<Array<{ index: number; row: JobRow | undefined }>> {
    const first = submissions[0] as Submission;
    const { tenantId, plan } = first;
    const jobs = submissions.map((s) => s.job as NewJob);
    // A job refused by a quota is left out of its entry when the entry is queued (publish).
    coalesceTinyJobs(jobs, this.coalesce);
    const limits = { jobsPerMonth: plan.jobs_per_month, computeUnitsPerMonth: plan.compute_units_per_month, exactMargin: this.quotaMargin };
    const decided = await writeJobsWithinQuotas(this.runtime.db, tenantId, limits, jobs, { lane });
    const rows: Array<{ index: number; row: JobRow | undefined }> = [];
    decided.forEach((outcome, index) => {
      if (outcome.kind === 'inserted') rows.push({ index, row: outcome.row });
      else if (outcome.kind === 'key_taken') rows.push({ index, row: undefined });
      else if (outcome.kind === 'jobs_quota') outcomes[index] = { ok: false, error: quotaExceeded(plan, outcome.usedAfter) };
      else outcomes[index] = { ok: false, error: computeQuotaExceeded(plan, first.plans ?? [], outcome.used, (jobs[index] as NewJob).computeUnits) };
    });
    return rows;
  }

  /**
   * Submissions that read before they write — a monthly quota (its usage read, its advisory lock
   * near the limit) or a stored lattice (locked, its head read) — in one `withTenant` transaction.
   */
  private async writeInTransaction(
    submissions: readonly Submission[],
    outcomes: SubmissionOutcome[],
    lane: number,
  ): Promise<Array<{ index: number; row: JobRow | undefined }>> {
    const first = submissions[0] as Submission;
    const { tenantId, plan } = first;
    return withTenant(this.runtime.db, tenantId, async (trx) => {
      const ready = await this.checkStoredLattices(trx, submissions, outcomes);
      const { room, usedAfter } = await jobsRoom(trx, tenantId, plan, ready.length, { margin: this.quotaMargin });
      for (const { index } of ready.slice(room)) outcomes[index] = { ok: false, error: quotaExceeded(plan, usedAfter) };
      const withinJobs = ready.slice(0, room);
      // Compute units are charged at acceptance (shared/compute-units.ts), in the same transaction.
      const units = withinJobs.map(({ job }) => job.computeUnits);
      const { fits, usedAt } = await computeRoom(trx, tenantId, plan, units);
      const accepted: Array<{ index: number; job: NewJob; units: number }> = [];
      withinJobs.forEach((r, i) => {
        if (fits[i]) accepted.push({ ...r, units: units[i] ?? 0 });
        else outcomes[r.index] = { ok: false, error: computeQuotaExceeded(plan, first.plans ?? [], usedAt[i] ?? 0, units[i] ?? 0) };
      });
      const acceptedJobs = accepted.map((r) => r.job);
      coalesceTinyJobs(acceptedJobs, this.coalesce);
      const inserted = await insertJobs(trx, acceptedJobs, lane);
      // A job whose idempotency key was taken is not inserted, and not charged.
      const charged = accepted.reduce((sum, r, i) => sum + (inserted[i] ? r.units : 0), 0);
      if (charged > 0) await recordUsage(trx, tenantId, USAGE_METRICS.computeUnits, charged, usageDay(), lane);
      return accepted.map(({ index }, i) => ({ index, row: inserted[i] }));
    });
  }

  /**
   * The rows of a write, in order: inline submissions as prepared; stored-lattice ones get their
   * lattice's current version (its head only; the lattice locked against change and deletion
   * until the write commits, so the job's reference stays valid) and are checked, each failure
   * recorded in `outcomes` for its submission alone.
   */
  private async checkStoredLattices(
    trx: Knex.Transaction,
    submissions: readonly Submission[],
    outcomes: SubmissionOutcome[],
  ): Promise<Array<{ index: number; job: NewJob }>> {
    const wanted = [...new Set(submissions.filter((s) => !s.job && s.input.lattice_id).map((s) => s.input.lattice_id as string))];
    const heads = new Map((await currentVersionHeads(trx, submissions[0]?.tenantId as string, wanted)).map((h) => [h.lattice_id, h]));
    const checkedLattices = new Map<string, { versionId: string; checked: CheckedLattice }>();
    const ready: Array<{ index: number; job: NewJob }> = [];
    submissions.forEach((submission, index) => {
      if (submission.job) {
        ready.push({ index, job: submission.job });
        return;
      }
      try {
        const latticeId = submission.input.lattice_id;
        const head = latticeId ? heads.get(latticeId) : undefined;
        if (!latticeId || !head) {
          throw new AppError('not_found', `No lattice ${latticeId}`, { extra: { field: 'lattice_id' } });
        }
        // Checked once per write: later submissions on the same lattice reuse the summary.
        let stored = checkedLattices.get(latticeId);
        if (!stored) {
          stored = { versionId: head.version_id, checked: checkParsedLattice(head.head, 'lattice') };
          checkedLattices.set(latticeId, stored);
        }
        const content = checkJobContent(submission.input, submission.plan, submission.plans ?? [], this.runtime.config, stored);
        ready.push({ index, job: this.newJob(submission, content) });
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    });
    return ready;
  }

  /**
   * Queues written rows of one tenant: each on its own entry, or on the entry its write gave it
   * (`queue_entry`) with the others written of that group; a group of which one row was written
   * (the rest refused) is that row's own entry. A failure is logged (reconcile queues them later).
   */
  async publish(tenantId: string, rows: ReadonlyArray<JobRow | undefined>): Promise<void> {
    const threads = this.runtime.config.KERNEL_THREADS;
    const singles: QueuedJobRef[] = [];
    const groups = new Map<string, QueuedJobRef[]>();
    for (const row of rows) {
      if (row === undefined) continue;
      const job = queuedJobOf(row, threads);
      if (row.queue_entry === null) {
        singles.push(job);
        continue;
      }
      const group = groups.get(row.queue_entry);
      if (group) group.push(job);
      else groups.set(row.queue_entry, [job]);
    }
    const coalesced: QueuedChunkRef[] = [];
    for (const [id, jobs] of groups) {
      if (jobs.length === 1) singles.push(jobs[0]!);
      else coalesced.push({ id, tenantId, jobIds: jobs.map((j) => j.id), memoryBytes: Math.max(...jobs.map((j) => Number(j.memoryBytes ?? 0))) });
    }
    await this.producer.enqueueMany(tenantId, singles, coalesced).catch((err: unknown) =>
      this.runtime.logger.warn({ err, jobIds: rows.flatMap((row) => (row ? [row.id] : [])) }, 'job rows written but not queued; reconcile will queue them'),
    );
  }
}
