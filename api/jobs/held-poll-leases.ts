/**
 * The per-tenant cap on held polls across every API process: each held poll takes a lease in a
 * Redis sorted set per tenant (member: the lease, score: when it lapses), in one Lua call that
 * first drops lapsed leases, so the cap is global and a process that dies without releasing its
 * leases frees them by itself once they lapse (at the longest wait plus a margin).
 *
 * Lapse times are the calling process's clock: skew between API hosts moves a lapse by the skew,
 * which only matters for leases of processes that died.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../../shared/redis.ts';
import { SECOND } from '../../shared/units.ts';
import { RedisScript } from '../../shared/queues/redis-script.ts';

/** How long a lease outlives the wait it was taken for (a released lease goes at once). */
export const LEASE_MARGIN_MS = 10 * SECOND;

/**
 * KEYS[1] the tenant's lease set. ARGV: now (ms), the lease's lapse time (ms), the cap, the lease,
 * the lease's length (ms; the set lives at least that long). Returns 1 when the lease was taken, 0 at the cap.
 */
const ACQUIRE = new RedisScript(
  'acquire-held-poll-lease',
  `redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('zadd', KEYS[1], ARGV[2], ARGV[4])
if redis.call('pttl', KEYS[1]) < tonumber(ARGV[5]) then redis.call('pexpire', KEYS[1], ARGV[5]) end
return 1`,
);

export function heldPollLeaseKey(prefix: string, tenantId: string): string {
  return `${prefix}:heldpolls:${tenantId}`;
}

export class HeldPollLeases {
  /** Names this process's leases; a counter makes each unique. */
  private readonly owner = randomUUID();
  private taken = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /**
   * Takes one of the tenant's `cap` leases for `waitMs`: the lease to release, or undefined when
   * the tenant holds `cap` polls across all processes. Rejects when Redis does not answer.
   */
  async acquire(tenantId: string, cap: number, waitMs: number): Promise<string | undefined> {
    const lease = `${this.owner}:${++this.taken}`;
    const now = Date.now();
    const lapse = now + waitMs + LEASE_MARGIN_MS;
    const key = heldPollLeaseKey(this.prefix, tenantId);
    const got = await ACQUIRE.run(this.redis, [key], [now, lapse, cap, lease, waitMs + LEASE_MARGIN_MS]);
    return got === 1 ? lease : undefined;
  }

  /** Gives a lease back (best effort: a lease not given back lapses by itself). */
  async release(tenantId: string, lease: string): Promise<void> {
    await this.redis.zrem(heldPollLeaseKey(this.prefix, tenantId), lease);
  }
}
