/**
 * A tenant's new jobs added to its queue and the tenant marked runnable in ONE pipelined round
 * trip to one Redis, where BullMQ's `addBulk` and the mark were two, one after the other, on a
 * submission's way to its 202 (docs/performance.md › Mixed load: usage lanes and one queue round
 * trip). The adds are BullMQ's own (`addJobToTransaction`, as `addBulk` queues them on its
 * pipeline); the mark follows them in the same pipeline, so Redis runs it after them.
 *
 * Not for a Redis Cluster: the queue's keys and the ready set live in different slots.
 */
import { Job, type JobsOptions } from 'bullmq';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../redis.ts';
import { queueMarkReady, settleMarkReady } from './ready-set.ts';
import type { PipelineJobData, TenantQueue } from './tenant-queues.ts';

/** One entry to add: BullMQ's name, data and options (with the row's id as `jobId`). */
export interface QueueEntry {
  name: string;
  data: PipelineJobData;
  opts: JobsOptions & { jobId: string };
}

/**
 * Adds `entries` to the tenant's queue (each idempotent by its id) and marks the tenant, in one
 * round trip. Rejects when an add failed; the rows stay `queued` for reconcile to queue.
 */
export async function addAndMarkReady(queue: TenantQueue, redis: RedisClient, prefix: string, tenantId: string, entries: readonly QueueEntry[]): Promise<void> {
  const backend = queue.backend;
  // BullMQ's client (its scripts defined on it) over the connection the queue was opened on.
  const pipeline = (await backend.client).pipeline() as unknown as ChainableCommander;
  const added = entries.map((entry) => {
    const job = new Job<PipelineJobData>(queue, entry.name, entry.data, entry.opts, entry.opts.jobId);
    // Queues the add on the pipeline at once; the promise only settles the queuing.
    return backend.addJobToTransaction(pipeline as never, job.asJSON(), entry.opts.jobId);
  });
  await Promise.all(added);
  queueMarkReady(pipeline, prefix, tenantId);
  const replies = (await pipeline.exec()) ?? [];
  for (const [index, reply] of replies.slice(0, entries.length).entries()) {
    const [err, result] = reply;
    if (err) throw err;
    // BullMQ's add scripts answer a negative code for a job they refuse.
    if (typeof result === 'number' && result < 0) throw new Error(`adding job ${entries[index]?.opts.jobId} answered ${result}`);
  }
  await settleMarkReady(replies[entries.length], redis, prefix, tenantId);
}
