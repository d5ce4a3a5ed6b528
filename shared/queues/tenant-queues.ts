/**
 * BullMQ Queue objects for tenant queues, on a connection the caller owns. Queues are cheap
 * (they share the connection), so one per tenant is created on first use and kept.
 */
import { Queue } from 'bullmq';
import type { Logger } from '../logger.ts';
import type { RedisClient } from '../redis.ts';
import { fairKeys, tenantOfQueueName, tenantQueueName } from './names.ts';

/**
 * What a tenant queue's BullMQ job carries. A single job's entry has the job row's id; a chunk of
 * a batch (docs/architecture.md › Batches) has the id `<batchId>.<n>` and lists its rows' ids;
 * tiny single submissions written together (docs/architecture.md › The job pipeline) share an
 * entry `<firstJobId>.g` that lists theirs and says `coalesced`.
 */
export interface PipelineJobData {
  tenant_id: string;
  /** Bytes the job (a chunk: its largest job) reserves on a worker; absent in entries queued before reservations existed. */
  memory_bytes?: number;
  /** The job rows a chunk entry carries, run one after another; absent on a single job's entry. */
  job_ids?: string[];
  /** The rows are single submissions, not a batch's: no `job_chunks` row counts their attempts. */
  coalesced?: true;
}

export type TenantQueue = Queue<PipelineJobData>;

/** Opens the queue of one tenant on `connection` (not closed by the queue's `close()`). */
export function openTenantQueue(connection: RedisClient, prefix: string, tenantId: string): TenantQueue {
  return new Queue<PipelineJobData>(tenantQueueName(tenantId), { connection, prefix });
}

/**
 * Names of every tenant queue that ever had a job (`{t.<tenantId>}`), for operators' tools.
 * Reconcile puts a tenant back in the set if Redis lost it.
 */
export async function listTenantQueueNames(redis: RedisClient, prefix: string): Promise<string[]> {
  const tenants = await redis.smembers(fairKeys(prefix).queues);
  return tenants.sort().map(tenantQueueName);
}

export { tenantOfQueueName, tenantQueueName };

/** A cache of tenant queues on one connection. */
export class TenantQueues {
  private readonly queues = new Map<string, TenantQueue>();

  constructor(
    private readonly connection: RedisClient,
    readonly prefix: string,
    private readonly logger?: Logger,
  ) {}

  get(tenantId: string): TenantQueue {
    let queue = this.queues.get(tenantId);
    if (!queue) {
      queue = openTenantQueue(this.connection, this.prefix, tenantId);
      // An 'error' without a listener would crash the process; failures also reach the caller.
      queue.on('error', (err) => this.logger?.debug({ err, tenantId }, 'tenant queue error'));
      this.queues.set(tenantId, queue);
    }
    return queue;
  }

  /** Releases the queue objects; the shared connection stays open. */
  async close(): Promise<void> {
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.allSettled(queues.map((q) => q.close()));
  }
}
