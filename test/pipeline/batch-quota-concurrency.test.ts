/**
 * Concurrent batches of one tenant never overshoot its monthly jobs quota. A batch brings up to
 * 1,000 jobs and a tenant may send any number at once, so no margin bounds what its batches have
 * in flight: a batch on a plan with a jobs limit decides under the tenant's jobs-quota lock
 * (api/jobs/submit-quota.ts › jobsRoom, `exact`), whatever its distance from the limit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { quotaExactMargin } from '../../api/jobs/submit-quota.ts';
import { usageDay } from '../../shared/usage.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { liftRateLimits } from './support.ts';
import { usageOf } from './new-job-rows.ts';

const LIMIT = 10_000;
const PER_BATCH = 200;
const BATCHES = 8;

const env = useTestEnvironment();
const api = useTestApi(env);

/**
 * Far enough from the limit that each batch alone would not look near it (used + 200 + margin <
 * limit) with the API's own margin, near enough that all of them together (8 × 200 = 1,600) do not fit.
 */
const usedBefore = (): number => LIMIT - quotaExactMargin(api.deps.runtime.config) - PER_BATCH - 1;

beforeAll(async () => {
  // Before the first request: the API caches plan rows for a few seconds.
  await env.db('plans').where({ code: 'enterprise' }).update({ jobs_per_month: LIMIT });
  await liftRateLimits(env.db);
});

/** Waits (up to 10 s) until `n` sessions of this file's database wait for a lock. */
async function waitForWaiters(n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { rows } = await env.db.raw<{ rows: Array<{ n: number }> }>(
      `select count(distinct pid)::int as n from pg_locks
        where not granted and pid in (select pid from pg_stat_activity where datname = current_database())`,
    );
    if ((rows[0]?.n ?? 0) >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const body = {
  lattice: { shape: [4, 4] },
  defaults: { type: 'shortest_path', params: { start: [0, 0], end: [3, 3] } },
  jobs: Array.from({ length: PER_BATCH }, () => ({})),
};

describe('concurrent batches of one tenant', () => {
  it('are accepted only while they fit, and the jobs quota holds exactly', async () => {
    const used = usedBefore();
    for (let round = 0; round < 2; round++) {
      const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
      await env.db('usage_counters').insert({ tenant_id: tenant.tenantId, day: usageDay(), metric: 'jobs.components', value: used });
      // The tenant's compute-unit counter row, held: each batch's write waits on it at its end, after
      // it decided, so the batches' decisions overlap as they would under load.
      const day = usageDay();
      await env.db('usage_counters').insert({ tenant_id: tenant.tenantId, day, metric: 'compute_units', value: 0 });
      const holder = await env.db.transaction();
      await holder('usage_counters').where({ tenant_id: tenant.tenantId, day, metric: 'compute_units' }).forUpdate().select('value');
      const pending = Promise.all(
        Array.from({ length: BATCHES }, async () => (await api.request('/api/batches', { body, headers: tenant.headers })).status),
      );
      await waitForWaiters(BATCHES);
      await holder.commit();
      const statuses = await pending;
      const fit = Math.floor((LIMIT - used) / PER_BATCH);
      expect(statuses.filter((s) => s === 202)).toHaveLength(fit);
      expect(statuses.filter((s) => s === 429)).toHaveLength(BATCHES - fit);
      expect(await env.db('jobs').where({ tenant_id: tenant.tenantId })).toHaveLength(fit * PER_BATCH);
      expect(used + (await usageOf(env.db, tenant.tenantId, 'jobs.shortest_path'))).toBeLessThanOrEqual(LIMIT);
    }
  });
});
