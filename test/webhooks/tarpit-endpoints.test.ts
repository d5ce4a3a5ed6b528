/**
 * Tarpit endpoints (they accept the connection and never answer) must not cost anyone else:
 * neither test events asked for through the API nor the worker's and scheduler's attempts hold a
 * database connection or transaction while they wait, and one tenant's test events are bounded.
 * Meanwhile another tenant's requests stay fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config.ts';
import type { Db } from '../../shared/db.ts';
import { createLogger } from '../../shared/logger.ts';
import { createDeliveryDb } from '../../shared/webhooks/delivery-db.ts';
import { DeliverySender } from '../../shared/webhooks/delivery-sender.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { finishJobWithEvent, insertEndpoint, insertJob, testSecretBox } from './fixtures.ts';
import { TestReceiver } from './receiver.ts';
import { Tarpit } from './tarpit.ts';

/** How long an attempt waits for the tarpit before giving up. */
const TARPIT_MS = 3000;

const env = useTestEnvironment();
// A small request pool, so that attempts holding connections would exhaust it at once.
const api = useTestApi(env, { DATABASE_POOL_MAX: '4', WEBHOOK_TIMEOUT_MS: String(TARPIT_MS), WEBHOOK_TEST_TIMEOUT_MS: String(TARPIT_MS) });

let tarpit: Tarpit;
let receiver: TestReceiver;
let abuser: TestTenant;
let neighbour: TestTenant;

beforeAll(async () => {
  tarpit = await new Tarpit().start();
  receiver = await new TestReceiver().start();
  abuser = await createTestTenant(env.db, { plan: 'free' });
  neighbour = await createTestTenant(env.db, { plan: 'free' });
});
afterAll(async () => {
  await tarpit?.close();
  await receiver?.close();
});

/**
 * Backends of this file's database in a transaction open for over half a second and idle (waiting
 * on the application): what an attempt holding its transaction across the tarpit looks like. The
 * short claim and record transactions never last that long.
 */
async function idleInTransaction(applicationName?: string): Promise<number> {
  const q = env
    .db('pg_stat_activity')
    .where({ datname: env.databaseName })
    .whereLike('state', 'idle in transaction%')
    .whereRaw(`now() - xact_start > interval '500 milliseconds'`);
  if (applicationName) q.where({ application_name: applicationName });
  const [row] = await q.count<Array<{ count: number }>>({ count: '*' });
  return Number(row?.count ?? 0);
}

function usedConnections(db: Db): number {
  return (db.client as { pool: { numUsed(): number } }).pool.numUsed();
}

/** The most connections of `db` in use at once over `samples` looks 50 ms apart. */
async function mostUsed(db: Db, samples = 10): Promise<number> {
  let most = 0;
  for (let i = 0; i < samples; i++) {
    most = Math.max(most, usedConnections(db));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return most;
}

async function timed(fn: () => Promise<Response>): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const res = await fn();
  await res.arrayBuffer();
  return { ms: performance.now() - started, status: res.status };
}

describe('webhook attempts against a tarpit', () => {
  it("bounds a tenant's test events, holds no connection while they wait, and keeps another tenant fast", async () => {
    const trap = (await insertEndpoint(env.db, abuser.tenantId, tarpit.url, ['job.completed'])).id;
    const good = (await insertEndpoint(env.db, neighbour.tenantId, receiver.url, ['job.completed'])).id;
    const before = tarpit.accepted;

    const started = performance.now();
    const tests = Array.from({ length: 8 }, () =>
      api.request(`/api/webhooks/${trap}/test`, { method: 'POST', headers: abuser.headers }).then(async (res) => ({
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body: (await res.json()) as { status?: string; attempts?: number; last_error?: string; code?: string },
        ms: performance.now() - started,
      })),
    );
    await tarpit.waitForOpen(2);

    // Two attempts wait in the tarpit; holding a connection each would show as two in use. (One
    // may be in use now and then for the API's own chores: usage flushes, credential lookups.)
    expect(await mostUsed(api.deps.runtime.db)).toBeLessThan(2);
    expect(await idleInTransaction()).toBe(0);

    // While the abuser's attempts sit in the tarpit: the neighbour's reads and its own test event.
    const reads = [];
    for (let i = 0; i < 5; i++) reads.push(await timed(() => api.request('/api/jobs?limit=5', { headers: neighbour.headers })));
    const ownTest = await timed(() => api.request(`/api/webhooks/${good}/test`, { method: 'POST', headers: neighbour.headers }));
    // ...all while the abuser's attempts were still in the tarpit.
    expect(tarpit.open).toBeGreaterThanOrEqual(2);

    for (const read of reads) expect(read.status).toBe(200);
    expect(Math.max(...reads.map((r) => r.ms))).toBeLessThan(TARPIT_MS / 3);
    expect(ownTest.status).toBe(200);
    expect(ownTest.ms).toBeLessThan(TARPIT_MS / 3);

    const answers = await Promise.all(tests);
    const accepted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(accepted).toHaveLength(2);
    expect(refused).toHaveLength(6);
    for (const a of refused) {
      expect(a.body.code).toBe('rate_limited');
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      // Refused at once, not after waiting for a slot.
      expect(a.ms).toBeLessThan(TARPIT_MS / 3);
    }
    for (const a of accepted) {
      expect(a.body).toMatchObject({ status: 'pending', attempts: 1 });
      expect(a.body.last_error).toMatch(/ETIMEDOUT/);
      expect(a.ms).toBeLessThan(TARPIT_MS + 3000);
    }
    expect(tarpit.accepted - before).toBe(2);
    // A refused test leaves no delivery behind.
    expect(await env.db('webhook_deliveries').where({ webhook_id: trap }).count<Array<{ count: number }>>({ count: '*' })).toEqual([{ count: 2 }]);
    expect(await env.db('webhook_deliveries').where({ webhook_id: trap }).whereNotNull('lease_token').first()).toBeUndefined();
  });

  it('worker and scheduler attempts hold no connection or transaction while the endpoint keeps them waiting', async () => {
    // All six of one tenant's attempts in flight at once (the per-tenant cap has a test below).
    const config = parseConfig({ ...env.env, WEBHOOK_TIMEOUT_MS: String(TARPIT_MS), WEBHOOK_RETRY_SCHEDULE_MS: '60000,600000', WEBHOOK_ATTEMPTS_PER_TENANT: '6' });
    const name = 'catalytic:tarpit-sender';
    const deliveryDb = createDeliveryDb(config, name);
    const sender = new DeliverySender({ db: deliveryDb, logger: createLogger(config, 'test'), config, secretBox: testSecretBox() });
    try {
      // Only this test's deliveries are due.
      await env.db('webhook_deliveries').delete();
      const tenant = await createTestTenant(env.db);
      await insertEndpoint(env.db, tenant.tenantId, tarpit.url, ['job.completed']);
      const deliveries: string[] = [];
      for (let i = 0; i < 6; i++) deliveries.push(...(await finishJobWithEvent(env.db, tenant.tenantId, await insertJob(env.db, tenant.tenantId, { status: 'running' }))));
      // Three of them failed once already: the scheduler's to retry; the others are the worker's.
      await env.db('webhook_deliveries').whereIn('id', deliveries.slice(3)).update({ attempts: 1 });
      const open = tarpit.open;

      // The worker's first attempts (one per delivery) and a scheduler retry run, all at once.
      const firsts = deliveries.slice(0, 3).map((id) => sender.attemptIfDue(id));
      const retries = sender.retryDue({ limit: 3, parallelism: 3 });
      await tarpit.waitForOpen(open + 6);

      // This pool serves nothing but these attempts: all idle while they wait.
      expect(await mostUsed(deliveryDb)).toBe(0);
      expect(await idleInTransaction(name)).toBe(0);
      // Each delivery is leased to its one attempt; nothing else may take it meanwhile.
      const leased = await env.db('webhook_deliveries').whereIn('id', deliveries).whereNotNull('lease_token').where('lease_expires_at', '>', env.db.fn.now());
      expect(leased).toHaveLength(6);
      expect(await sender.attemptNextDue()).toBeUndefined();

      const reports = await Promise.all(firsts);
      expect(await retries).toBe(3);
      for (const report of reports) expect(report).toMatchObject({ outcome: 'retrying', statusCode: null });
      const rows = await env.db('webhook_deliveries').whereIn('id', deliveries).select('id', 'attempts', 'lease_token', 'last_error');
      for (const row of rows) {
        expect(row).toMatchObject({ attempts: deliveries.indexOf(row.id) < 3 ? 1 : 2, lease_token: null, last_error: expect.stringMatching(/ETIMEDOUT/) });
      }
    } finally {
      await deliveryDb.destroy();
    }
  });
  it("caps one tenant's attempts in flight, so another tenant's deliveries go out while its endpoints hang", async () => {
    const config = parseConfig({ ...env.env, WEBHOOK_TIMEOUT_MS: String(TARPIT_MS), WEBHOOK_RETRY_SCHEDULE_MS: '60000,600000', WEBHOOK_ATTEMPTS_PER_TENANT: '2' });
    const deliveryDb = createDeliveryDb(config, 'catalytic:fair-sender');
    const sender = new DeliverySender({ db: deliveryDb, logger: createLogger(config, 'test'), config, secretBox: testSecretBox() });
    try {
      await env.db('webhook_deliveries').delete();
      const [slow, quiet] = await Promise.all([createTestTenant(env.db), createTestTenant(env.db)]);
      await insertEndpoint(env.db, slow.tenantId, tarpit.url, ['job.completed']);
      await insertEndpoint(env.db, quiet.tenantId, receiver.url, ['job.completed']);
      // Six of the slow tenant's deliveries, all due before the quiet tenant's one; all failed once
      // already, so they are the scheduler's to retry.
      const slowDeliveries: string[] = [];
      for (let i = 0; i < 6; i++) slowDeliveries.push(...(await finishJobWithEvent(env.db, slow.tenantId, await insertJob(env.db, slow.tenantId, { status: 'running' }))));
      await env.db('webhook_deliveries').whereIn('id', slowDeliveries).update({ attempts: 1, next_attempt_at: env.db.raw("now() - interval '1 minute'") });
      const [quietDelivery] = await finishJobWithEvent(env.db, quiet.tenantId, await insertJob(env.db, quiet.tenantId, { status: 'running' }));
      await env.db('webhook_deliveries').where({ id: quietDelivery }).update({ attempts: 1 });
      const open = tarpit.open;
      const received = receiver.requests.length;

      // Four slots; oldest first would give all four to the slow tenant for TARPIT_MS.
      const run = sender.retryDue({ limit: 3, parallelism: 4 });
      await receiver.waitFor(() => receiver.requests.length > received, TARPIT_MS);
      // The quiet tenant's event went out while the slow tenant held exactly its two slots.
      expect(tarpit.open - open).toBe(2);
      expect(JSON.parse(receiver.requests.at(-1)!.body)).toMatchObject({ type: 'job.completed' });
      expect(await run).toBe(3);
      expect(await env.db('webhook_deliveries').where({ id: quietDelivery }).first('status')).toEqual({ status: 'succeeded' });
      // Its other four waited their turn, unleased.
      expect(await env.db('webhook_deliveries').whereIn('id', slowDeliveries).where({ attempts: 1 }).whereNull('lease_token').count<Array<{ count: number }>>({ count: '*' })).toEqual([{ count: 4 }]);
    } finally {
      await deliveryDb.destroy();
    }
  });
});
