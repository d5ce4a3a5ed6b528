/**
 * Puts jobs on tenant queues. The job row is always written first (PostgreSQL is the truth);
 * the BullMQ job's id is the row's id, so adding the same job twice is a no-op, and reconcile
 * can re-add a row Redis lost without creating a duplicate.
 */
import type { JobsOptions } from 'bullmq';
import type { Logger } from '../logger.ts';
import type { RedisClient } from '../redis.ts';
import { DAY } from '../units.ts';
import { Cluster } from '../redis.ts';
import { addAndMarkReady } from './add-and-mark.ts';
import { markTenantReady } from './ready-set.ts';
import { type PipelineJobData, TenantQueues } from './tenant-queues.ts';

/** A job to queue: its row's id, tenant, type and the memory it reserves on a worker. */
export interface QueuedJobRef {
  id: string;
  tenantId: string;
  type: string;
  /**
   * Bytes the job reserves (shared/jobs/job-memory.ts); workers fetch it only when it fits.
   * Unknown for a row older than the record: the worker then reserves its cautious default.
   */
  memoryBytes?: number;
}

/**
 * BullMQ options of every pipeline job. BullMQ never retries on its own (`attempts: 1`): the
 * worker decides retries from the row's attempts and moves the job to `delayed` itself.
 * Finished jobs leave Redis (PostgreSQL keeps them); failed ones stay a while for operators.
 */
export const PIPELINE_JOB_OPTIONS: Readonly<JobsOptions> = {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: { age: DAY / 1000, count: 1000 },
};

function jobData(job: QueuedJobRef): PipelineJobData {
  return { tenant_id: job.tenantId, ...(job.memoryBytes === undefined ? {} : { memory_bytes: job.memoryBytes }) };
}

/**
 * One queue entry for several small jobs: a chunk of a batch (docs/architecture.md › Batches), or
 * tiny single submissions written together (› The job pipeline).
 */
export interface QueuedChunkRef {
  /** `<batchId>.<n>` or `<firstJobId>.g`, the entry's BullMQ id (stored in each of its rows' `queue_entry`). */
  id: string;
  tenantId: string;
  jobIds: readonly string[];
  /** The largest reservation of its jobs (they run one at a time). */
  memoryBytes: number;
}

/**
 * Priority of batch entries within their tenant's queue: BullMQ hands out entries without a
 * priority (single submissions) before prioritized ones, so an interactive job is never behind
 * its own tenant's sweep. Across tenants the fair fetcher decides, as for any entry.
 */
export const BATCH_PRIORITY = 10;

export class JobProducer {
  readonly queues: TenantQueues;

  constructor(
    private readonly redis: RedisClient,
    readonly prefix: string,
    logger?: Logger,
  ) {
    this.queues = new TenantQueues(redis, prefix, logger);
  }

  /** Adds the job to its tenant's queue (idempotent) and marks the tenant as having work. */
  async enqueue(job: QueuedJobRef): Promise<void> {
    await this.queues.get(job.tenantId).add(job.type, jobData(job), { ...PIPELINE_JOB_OPTIONS, jobId: job.id });
    await markTenantReady(this.redis, this.prefix, job.tenantId, 0);
  }

  /**
   * Adds jobs of one tenant to its queue (each add idempotent, in the given order), and the entries
   * that tiny ones written together share (`coalesced`, after them; single-job priority, not a
   * batch's), then marks the tenant once, all in one pipelined round trip on one Redis
   * (add-and-mark.ts). The mark comes after the adds: a worker it wakes finds the jobs, and a worker
   * that just found the queue empty sees the tenant marked again.
   */
  async enqueueMany(tenantId: string, jobs: readonly QueuedJobRef[], coalesced: readonly QueuedChunkRef[] = []): Promise<void> {
    if (jobs.length + coalesced.length === 0) return;
    const foreign = [...jobs, ...coalesced].find((job) => job.tenantId !== tenantId);
    if (foreign) throw new Error(`job ${foreign.id} belongs to tenant ${foreign.tenantId}, not ${tenantId}`);
    const queue = this.queues.get(tenantId);
    const entries = [
      ...jobs.map((job) => ({ name: job.type, data: jobData(job), opts: { ...PIPELINE_JOB_OPTIONS, jobId: job.id } })),
      ...coalesced.map((group) => ({
        name: 'coalesced',
        data: { tenant_id: tenantId, memory_bytes: group.memoryBytes, job_ids: [...group.jobIds], coalesced: true as const },
        opts: { ...PIPELINE_JOB_OPTIONS, jobId: group.id },
      })),
    ];
    // On a Cluster the queue's keys and the ready set live in different slots: two round trips.
    if (this.redis instanceof Cluster) {
      await queue.addBulk(entries);
      await markTenantReady(this.redis, this.prefix, tenantId, 0);
      return;
    }
    await addAndMarkReady(queue, this.redis, this.prefix, tenantId, entries);
  }

  /**
   * Adds a batch's entries (chunks and jobs too large to share one) to the tenant's queue in one
   * pipelined round trip, then marks the tenant once. Each add is idempotent by its id.
   */
  async enqueueBatch(tenantId: string, chunks: readonly QueuedChunkRef[], singles: readonly QueuedJobRef[]): Promise<void> {
    if (chunks.length + singles.length === 0) return;
    const opts = { ...PIPELINE_JOB_OPTIONS, priority: BATCH_PRIORITY };
    await this.queues.get(tenantId).addBulk([
      ...chunks.map((chunk) => ({
        name: 'chunk',
        data: { tenant_id: tenantId, memory_bytes: chunk.memoryBytes, job_ids: [...chunk.jobIds] },
        opts: { ...opts, jobId: chunk.id },
      })),
      ...singles.map((job) => ({ name: job.type, data: jobData(job), opts: { ...opts, jobId: job.id } })),
    ]);
    await markTenantReady(this.redis, this.prefix, tenantId, 0);
  }

  /**
   * Removes a job that has not started. Returns false when BullMQ refuses (a worker holds the
   * job's lock) — the worker then finds the row cancelled and drops the job without running it.
   */
  async remove(tenantId: string, jobId: string): Promise<boolean> {
    return (await this.queues.get(tenantId).remove(jobId)) === 1;
  }

  /** Releases the queue objects (not the connection). */
  close(): Promise<void> {
    return this.queues.close();
  }
}
