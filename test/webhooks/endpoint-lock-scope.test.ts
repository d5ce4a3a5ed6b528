/**
 * A failed attempt's record locks its endpoint row; that lock must not stall the worker's group
 * commit, which finishes many tenants' jobs in one transaction and inserts their deliveries
 * (whose foreign key takes KEY SHARE on the endpoint). With FOR UPDATE it did: one tenant's
 * tarpit endpoints timing out by the dozen held up every tenant's job completions.
 */
import { describe, expect, it } from 'vitest';
import { finishAttempts, startAttempts } from '../../shared/jobs/transitions.ts';
import { lockEndpointHealth } from '../../shared/webhooks/endpoint-health.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { insertEndpoint, insertJob } from './fixtures.ts';

const env = useTestEnvironment();

describe("an endpoint's health lock", () => {
  it("does not hold up a group commit that finishes its tenant's and another tenant's jobs", async () => {
    const [noisy, quiet] = await Promise.all([createTestTenant(env.db), createTestTenant(env.db)]);
    const endpoint = await insertEndpoint(env.db, noisy.tenantId, 'http://127.0.0.1:9/hook');
    const jobs = [
      { tenantId: noisy.tenantId, jobId: await insertJob(env.db, noisy.tenantId) },
      { tenantId: quiet.tenantId, jobId: await insertJob(env.db, quiet.tenantId) },
    ];
    await startAttempts(env.db, 'test-worker', jobs);

    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    // A record transaction of a failed attempt at the noisy tenant's endpoint, held open.
    const record = env.db.transaction(async (trx) => {
      expect(await lockEndpointHealth(trx, endpoint.id)).toEqual({ enabled: true, failingSince: null });
      locked();
      await held;
    });
    await lockTaken;
    try {
      const finished = await env.db.transaction(async (trx) => {
        // Waiting on the lock would end here with lock_not_available instead of an answer.
        await trx.raw(`set local lock_timeout = '2s'`);
        return finishAttempts(
          trx,
          jobs.map((j) => ({ ...j, attempt: 1, status: 'completed' as const, result: { clusters: 1 } })),
        );
      });
      expect(finished.map((f) => f?.row.status)).toEqual(['completed', 'completed']);
      // The noisy tenant's job still got its delivery to the locked endpoint.
      expect(finished[0]?.deliveryIds).toHaveLength(1);
    } finally {
      release();
      await record;
    }
  });
});
