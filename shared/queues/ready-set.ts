/**
 * The set of tenants with work, which the fair fetcher walks instead of every tenant queue.
 *
 * Every writer lowers a tenant's score with `ZADD LT` (0 = runnable now, a future time = only
 * retries waiting out their backoff), so concurrent writers never push work into the future.
 * Only a worker that found a tenant's queue empty removes it, and it re-reads the queue after
 * removing (see {@link settleTenant}): a job added between the fetch and the removal is seen by
 * the re-read, one added after it marks the tenant again. No job is left behind in a queue whose
 * tenant is missing from the set.
 */
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '../redis.ts';
import { fairKeys, pipelineChannels, tenantQueueKey } from './names.ts';
import { RedisScript } from './redis-script.ts';

// KEYS: ready zset, queues set. ARGV: tenant id, score (ms), wake channel.
// Publishes a wake-up when the tenant becomes runnable now (added, or lowered to 0).
const MARK_READY = new RedisScript(
  'catalytic:mark-ready',
  `local changed = redis.call('ZADD', KEYS[1], 'LT', 'CH', ARGV[2], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
if changed == 1 and tonumber(ARGV[2]) == 0 then redis.call('PUBLISH', ARGV[3], ARGV[1]) end
return changed`,
);

// KEYS: wait, prioritized, delayed, active (one tenant queue, one slot).
// Returns {runnable now, first delayed due time in ms or -1, active}.
const QUEUE_STATE = new RedisScript(
  'catalytic:queue-state',
  `local runnable = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
local due = -1
if first[2] then due = math.floor(tonumber(first[2]) / 4096) end
return {runnable, due, redis.call('LLEN', KEYS[4])}`,
);

/** Jobs of one tenant queue, as the fetcher cares about them. */
export interface TenantQueueState {
  /** Waiting or prioritized: could start now. */
  runnable: number;
  /** When the first delayed job is due (ms since epoch), or undefined when none is delayed. */
  delayedUntil: number | undefined;
  active: number;
}

/** The keys and arguments of MARK_READY for one tenant. */
function markReadyCall(prefix: string, tenantId: string, at: number): { keys: string[]; args: Array<string | number> } {
  const keys = fairKeys(prefix);
  return { keys: [keys.ready, keys.queues], args: [tenantId, Math.max(0, Math.floor(at)), pipelineChannels(prefix).wake] };
}

/** Marks a tenant as having work due at `at` (0 = now); wakes idle workers when it is now. */
export async function markTenantReady(redis: RedisClient, prefix: string, tenantId: string, at = 0): Promise<void> {
  const { keys, args } = markReadyCall(prefix, tenantId, at);
  await MARK_READY.run(redis, keys, args);
}

/**
 * Queues the mark of a tenant as runnable now on `pipeline`, after the commands queued on it
 * before (a queue's adds); `settleMarkReady` reads its reply once the pipeline ran.
 */
export function queueMarkReady(pipeline: ChainableCommander, prefix: string, tenantId: string): void {
  const { keys, args } = markReadyCall(prefix, tenantId, 0);
  pipeline.evalsha(MARK_READY.sha, keys.length, ...keys, ...args);
}

/**
 * The reply of a mark queued by `queueMarkReady`: nothing to do when it ran; a Redis that did not
 * know the script yet is marked again (EVAL), after the pipeline's adds as before; any other error is thrown.
 */
export async function settleMarkReady(reply: [Error | null, unknown] | undefined, redis: RedisClient, prefix: string, tenantId: string): Promise<void> {
  const err = reply?.[0];
  if (!reply || (err && err.message.includes('NOSCRIPT'))) return markTenantReady(redis, prefix, tenantId, 0);
  if (err) throw err;
}

/** Reads the counts of one tenant queue in one round trip. */
export async function readTenantQueueState(redis: RedisClient, prefix: string, tenantId: string): Promise<TenantQueueState> {
  const key = (suffix: string) => tenantQueueKey(prefix, tenantId, suffix);
  const [runnable, due, active] = (await QUEUE_STATE.run(redis, [key('wait'), key('prioritized'), key('delayed'), key('active')])) as [
    number,
    number,
    number,
  ];
  return { runnable, delayedUntil: due >= 0 ? due : undefined, active };
}

/**
 * Called by a worker that found nothing to fetch for a tenant: leaves the tenant in the ready set
 * if it still has runnable jobs (it was at its concurrency cap), re-schedules it for its first
 * delayed job, or removes it — re-reading after the removal so that a job added concurrently is
 * never stranded. Returns the queue state it settled on.
 */
export async function settleTenant(redis: RedisClient, prefix: string, tenantId: string): Promise<TenantQueueState> {
  const before = await readTenantQueueState(redis, prefix, tenantId);
  if (before.runnable > 0) return before;
  await redis.zrem(fairKeys(prefix).ready, tenantId);
  const after = await readTenantQueueState(redis, prefix, tenantId);
  if (after.runnable > 0) await markTenantReady(redis, prefix, tenantId, 0);
  else if (after.delayedUntil !== undefined) await markTenantReady(redis, prefix, tenantId, after.delayedUntil);
  return after;
}

/** Tenants whose work is due at `now`, in a stable order (by tenant id). */
export async function dueTenants(redis: RedisClient, prefix: string, now = Date.now()): Promise<string[]> {
  const ids = await redis.zrangebyscore(fairKeys(prefix).ready, '-inf', now);
  return ids.sort();
}

/** Records that this process holds jobs of these tenants (see {@link FairKeys.active}). */
export async function touchActiveTenants(redis: RedisClient, prefix: string, tenantIds: Iterable<string>, now = Date.now()): Promise<void> {
  const args: Array<string | number> = [];
  for (const id of tenantIds) args.push(now, id);
  if (args.length === 0) return;
  await redis.zadd(fairKeys(prefix).active, 'GT', ...args);
}

/** Tenants some worker held a job of since `since` (ms), dropping older entries. */
export async function recentlyActiveTenants(redis: RedisClient, prefix: string, since: number): Promise<string[]> {
  const key = fairKeys(prefix).active;
  await redis.zremrangebyscore(key, '-inf', `(${since}`);
  return redis.zrangebyscore(key, since, '+inf');
}
