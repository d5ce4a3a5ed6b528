/**
 * Trims finished entries from BullMQ queues. PostgreSQL keeps the history clients see; BullMQ's
 * completed and failed sets are bookkeeping that would otherwise grow with every job.
 */
import { Queue } from 'bullmq';
import type { RedisClient } from '../shared/redis.ts';

/** Entries removed per call to `clean`, so one call never blocks Redis for long. */
const CLEAN_BATCH = 1000;

export interface QueueTrimOptions {
  connection: RedisClient;
  prefix: string;
  /** Finished entries younger than this stay (bull-board shows recent work). */
  keepMs: number;
  signal?: AbortSignal;
}

/** Removes completed and failed entries older than `keepMs` from each queue; returns how many. */
export async function trimFinishedEntries(queueNames: readonly string[], options: QueueTrimOptions): Promise<number> {
  let removed = 0;
  for (const name of queueNames) {
    if (options.signal?.aborted) break;
    const queue = new Queue(name, { connection: options.connection, prefix: options.prefix });
    queue.on('error', () => undefined);
    try {
      for (const state of ['completed', 'failed'] as const) {
        for (;;) {
          const ids = await queue.clean(options.keepMs, CLEAN_BATCH, state);
          removed += ids.length;
          if (ids.length < CLEAN_BATCH || options.signal?.aborted) break;
        }
      }
    } finally {
      await queue.close();
    }
  }
  return removed;
}
