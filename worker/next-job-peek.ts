/**
 * The job a tenant queue would hand out next (the right end of its wait list, where BullMQ's
 * fetch pops), with the memory it reserves, read in one round trip without taking it. A peek
 * may be stale by the time the caller fetches (another worker took that job): callers check
 * the job they actually got as well.
 */
import { RedisScript } from '../shared/queues/redis-script.ts';
import { tenantQueueKey } from '../shared/queues/names.ts';
import type { PipelineJobData } from '../shared/queues/tenant-queues.ts';
import type { RedisClient } from '../shared/redis.ts';

const PEEK = new RedisScript(
  'peek-next-job',
  `local id = redis.call('LINDEX', KEYS[1], -1)
if not id then return false end
return {id, redis.call('HGET', ARGV[1] .. id, 'data') or ''}`,
);

/** The next waiting job's id and its queue data, or undefined when nothing waits. */
export async function peekNextJob(
  redis: RedisClient,
  prefix: string,
  tenantId: string,
): Promise<{ id: string; data: Partial<PipelineJobData> } | undefined> {
  const reply = (await PEEK.run(redis, [tenantQueueKey(prefix, tenantId, 'wait')], [tenantQueueKey(prefix, tenantId, '')])) as [string, string] | null;
  if (!reply) return undefined;
  const [id, raw] = reply;
  let data: Partial<PipelineJobData> = {};
  try {
    data = raw ? (JSON.parse(raw) as Partial<PipelineJobData>) : {};
  } catch {
    // An entry we cannot read reserves the most a job may (see the worker's fallback).
  }
  return { id, data };
}
