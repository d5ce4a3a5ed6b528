/**
 * What the batch routes do apart from HTTP: submit a batch (every job checked, all or nothing, one
 * transaction, one queue round trip), read it with its counts, and cancel it.
 * See docs/architecture.md › Batches.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Principal } from '../../shared/auth/principal.ts';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { checkParsedLattice, computeCells } from '../../shared/jobs/lattice-checks.ts';
import { cutChunks } from '../../shared/jobs/chunk-cut.ts';
import { insertKeylessJobs, type NewJob } from '../../shared/jobs/repository.ts';
import { JOB_STATUSES } from '../../shared/jobs/types.ts';
import type { CheckedLattice } from '../../shared/lattice/resolve.ts';
import { jobsSubmitted } from '../../shared/metrics.ts';
import type { Plan } from '../../shared/plans.ts';
import type { QueuedChunkRef, QueuedJobRef } from '../../shared/queues/producer.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { recordUsage, USAGE_METRICS } from '../../shared/usage.ts';
import type { SubmitBatchInput } from '../../shared/wire/batches.ts';
import type { SubmitJobInput } from '../../shared/wire/jobs.ts';
import type { JobsService } from '../jobs/jobs-service.ts';
import { computeQuotaExceeded, computeRoom, jobsRoom, quotaExceeded } from '../jobs/submit-quota.ts';
import { artefactsListed } from '../../shared/jobs/job-artefact-names.ts';
import { checkJobContent } from '../jobs/submit-writer.ts';
import { cancelJobsWhere } from '../jobs/bulk-cancel.ts';
import { currentVersionHeads } from '../lattices/store.ts';
import { batchInvalid, type ItemProblem, itemProblem, parseBatchItems } from './items.ts';
import { type BatchRow, type BatchTally, batchJobIds, findBatch, findBatchByKey, insertBatch } from './store.ts';

export interface SubmittedBatch {
  batch: BatchRow;
  jobIds: string[];
  /** True when an earlier request with the same Idempotency-Key created the batch. */
  replayed: boolean;
  /**
   * A batch this request wrote: its counts as written (every job queued), so the answer needs no
   * second trip to the database once the batch is committed — a failure there would answer 503
   * for a batch that exists. Absent on a replay, whose counts are read.
   */
  tally?: BatchTally;
}

/** A job of the batch, checked: its row, or (stored lattice) its input still to check in the write. */
type Prepared = { index: number; job: NewJob } | { index: number; input: SubmitJobInput };

export class BatchesService {
  constructor(
    private readonly runtime: Runtime,
    private readonly plans: { get(code: string): Promise<Plan>; all(): Promise<Plan[]> },
    private readonly jobs: JobsService,
  ) {}

  /**
   * Checks every job of the batch against the engine and the plan, and refuses the batch with
   * every job at fault (422 `batch_invalid`) or over a quota (429) without writing anything;
   * otherwise writes the batch and its jobs in one transaction (counted in usage and compute
   * units), then queues them in one round trip as chunks (docs/architecture.md › Batches).
   */
  async submit(principal: Principal, body: SubmitBatchInput, idempotencyKey: string | undefined): Promise<SubmittedBatch> {
    const { tenantId } = principal;
    const { db, config } = this.runtime;
    const [plan, plans] = await Promise.all([this.plans.get(principal.planCode), this.plans.all()]);
    const requestHash = idempotencyKey ? createHash('sha256').update(JSON.stringify(body)).digest('hex') : null;
    if (idempotencyKey) {
      const earlier = await withTenant(db, tenantId, (trx) => findBatchByKey(trx, tenantId, idempotencyKey));
      if (earlier) return this.replay(earlier, requestHash);
    }

    const { inputs, problems } = parseBatchItems(body);
    // The batch's inline lattice is checked once; a job on it is checked against the result.
    const shared = body.lattice ? { versionId: null, checked: checkParsedLattice(body.lattice, 'body.lattice') } : undefined;
    const batchId = randomUUID();
    const prepared: Prepared[] = [];
    inputs.forEach((item, index) => {
      if (!item) return;
      const { input } = item;
      if (input.lattice_id) return void prepared.push({ index, input });
      try {
        const onShared = item.sharedLattice ? shared : undefined;
        const content = checkJobContent(input, plan, plans, config, onShared, `jobs.${index}.lattice`);
        prepared.push({ index, job: this.newJob(tenantId, batchId, index, input, content) });
      } catch (err) {
        problems.push(itemProblem(index, err));
      }
    });
    if (problems.length > 0 && prepared.every((p) => 'job' in p)) throw batchInvalid(problems, body.jobs.length);

    const written = await withTenant(db, tenantId, async (trx) => {
      const jobs = await this.checkStored(trx, tenantId, batchId, plan, plans, prepared, problems);
      if (problems.length > 0) throw batchInvalid(problems, body.jobs.length);
      // Under the tenant's quota lock always: a tenant's batches in flight are bounded by no margin.
      const { room, usedAfter } = await jobsRoom(trx, tenantId, plan, jobs.length, { exact: true });
      if (room < jobs.length) throw quotaExceeded(plan, usedAfter);
      const units = jobs.map((job) => job.computeUnits);
      const { fits, usedAt } = await computeRoom(trx, tenantId, plan, [units.reduce((a, b) => a + b, 0)]);
      if (!fits[0]) throw computeQuotaExceeded(plan, plans, usedAt[0] ?? 0, units.reduce((a, b) => a + b, 0));
      const entries = this.assignEntries(batchId, jobs);
      const batch = await insertBatch(trx, { id: batchId, tenantId, total: jobs.length, labels: body.labels ?? {}, idempotencyKey: idempotencyKey ?? null, requestHash });
      if (!batch) return undefined;
      if ((await insertKeylessJobs(trx, jobs)) !== jobs.length) throw new Error(`batch ${batchId}: not every job row was inserted`);
      await recordUsage(trx, tenantId, USAGE_METRICS.computeUnits, units.reduce((a, b) => a + b, 0));
      return { batch, jobs, entries };
    });
    if (!written) {
      // A concurrent request with the same key won the insert.
      const earlier = await withTenant(db, tenantId, (trx) => findBatchByKey(trx, tenantId, idempotencyKey as string));
      if (!earlier) throw new AppError('conflict', 'The Idempotency-Key is in use by a request still running; retry');
      return this.replay(earlier, requestHash);
    }
    for (const job of written.jobs) jobsSubmitted.inc({ type: job.type, plan: plan.code });
    await this.jobs.producer
      .enqueueBatch(tenantId, written.entries.chunks, written.entries.singles)
      .catch((err: unknown) => this.runtime.logger.warn({ err, batchId }, 'batch written but not queued; reconcile will queue its jobs'));
    const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as BatchTally['counts'];
    counts.queued = written.jobs.length;
    return { batch: written.batch, jobIds: written.jobs.map((j) => j.id), replayed: false, tally: { counts, firstFinishedAt: null, lastFinishedAt: null } };
  }

  private newJob(tenantId: string, batchId: string, index: number, input: SubmitJobInput, content: ReturnType<typeof checkJobContent>): NewJob {
    return {
      id: randomUUID(),
      tenantId,
      latticeId: input.lattice_id ?? null,
      latticeVersionId: content.latticeVersionId,
      type: input.type,
      lattice: content.lattice,
      params: content.params,
      cells: content.cells,
      memoryBytes: content.memoryBytes,
      computeUnits: content.computeUnits,
      maxAttempts: this.runtime.config.JOB_MAX_ATTEMPTS,
      idempotencyKey: null,
      requestHash: null,
      batchId,
      batchIndex: index,
      labels: input.labels ?? null,
      artefacts: artefactsListed(input),
    };
  }

  /**
   * The rows of every job in request order: stored-lattice jobs get their lattice's current
   * version (locked against change until commit, as for single jobs) and are checked here; their
   * refusals join `problems`.
   */
  private async checkStored(
    trx: Knex.Transaction,
    tenantId: string,
    batchId: string,
    plan: Plan,
    plans: readonly Plan[],
    prepared: readonly Prepared[],
    problems: ItemProblem[],
  ): Promise<NewJob[]> {
    const wanted = [...new Set(prepared.flatMap((p) => ('input' in p && p.input.lattice_id ? [p.input.lattice_id] : [])))];
    const heads = new Map((await currentVersionHeads(trx, tenantId, wanted)).map((h) => [h.lattice_id, h]));
    const checked = new Map<string, { versionId: string; checked: CheckedLattice }>();
    const jobs: NewJob[] = [];
    for (const p of prepared) {
      if ('job' in p) {
        jobs.push(p.job);
        continue;
      }
      try {
        const latticeId = p.input.lattice_id as string;
        const head = heads.get(latticeId);
        if (!head) throw new AppError('not_found', `No lattice ${latticeId}`, { extra: { field: `jobs.${p.index}.lattice_id` } });
        let stored = checked.get(latticeId);
        if (!stored) {
          stored = { versionId: head.version_id, checked: checkParsedLattice(head.head, 'lattice') };
          checked.set(latticeId, stored);
        }
        jobs.push(this.newJob(tenantId, batchId, p.index, p.input, checkJobContent(p.input, plan, plans, this.runtime.config, stored)));
      } catch (err) {
        problems.push(itemProblem(p.index, err));
      }
    }
    return jobs;
  }

  /**
   * Cuts a batch into queue entries: consecutive small jobs share a chunk of at most
   * BATCH_CHUNK_MAX_JOBS jobs and BATCH_CHUNK_MAX_CELLS of compute; a job larger than that is an
   * entry of its own. Sets each chunked job's `queueEntry`.
   */
  private assignEntries(batchId: string, jobs: NewJob[]): { chunks: QueuedChunkRef[]; singles: QueuedJobRef[] } {
    const { BATCH_CHUNK_MAX_JOBS: maxJobs, BATCH_CHUNK_MAX_CELLS: maxCells } = this.runtime.config;
    const small = (job: NewJob): number | undefined => {
      const cells = computeCells(job.type, job.cells, job.params);
      return cells > maxCells ? undefined : cells;
    };
    const runs = cutChunks(jobs, small, { maxJobs, maxCells });
    const chunks = runs.map((run, n): QueuedChunkRef => {
      const id = `${batchId}.${n}`;
      for (const job of run) job.queueEntry = id;
      return { id, tenantId: run[0]?.tenantId as string, jobIds: run.map((j) => j.id), memoryBytes: Math.max(...run.map((j) => j.memoryBytes)) };
    });
    const chunked = new Set(runs.flat());
    const singles = jobs.filter((job) => !chunked.has(job)).map((job): QueuedJobRef => ({ id: job.id, tenantId: job.tenantId, type: job.type, memoryBytes: job.memoryBytes }));
    return { chunks, singles };
  }

  private async replay(earlier: BatchRow, requestHash: string | null): Promise<SubmittedBatch> {
    if (earlier.request_hash !== requestHash) {
      throw new AppError('idempotency_conflict', 'This Idempotency-Key was used with a different request', { extra: { batch_id: earlier.id } });
    }
    const jobIds = await withTenant(this.runtime.db, earlier.tenant_id, (trx) => batchJobIds(trx, earlier.tenant_id, earlier.id));
    return { batch: earlier, jobIds, replayed: true };
  }

  /**
   * Cancels every unfinished job of the batch: queued ones at once (they never run), running
   * ones stop within a second. Cancelling a finished batch changes nothing.
   */
  async cancel(tenantId: string, batchId: string): Promise<{ cancelled: number; stopping: number }> {
    const { db } = this.runtime;
    const outcome = await withTenant(db, tenantId, async (trx) => {
      if (!(await findBatch(trx, tenantId, batchId))) throw new AppError('not_found', `No batch ${batchId}`);
      // A batch holds at most MAX_BATCH_JOBS jobs: one call cancels them all.
      return cancelJobsWhere(trx, tenantId, { batchId });
    });
    await this.jobs.afterBulkCancel(outcome);
    return { cancelled: outcome.cancelled, stopping: outcome.stopping.length };
  }
}
