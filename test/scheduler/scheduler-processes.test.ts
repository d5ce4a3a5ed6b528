/**
 * Webhook retries from real scheduler processes: a scheduler killed between two attempts of a
 * delivery leaves it pending, and the retry happens once a scheduler runs again; two schedulers
 * running at once never make the same attempt twice.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { useTestEnvironment } from '../support/context.ts';
import { type CatalyticProcess, spawnCatalytic } from '../support/processes.ts';
import { createTestTenant } from '../support/tenants.ts';
import { finishJobWithEvent, insertEndpoint, insertJob } from '../webhooks/fixtures.ts';
import { eventually, TestReceiver } from '../webhooks/receiver.ts';

const env = useTestEnvironment({ LOG_LEVEL: 'info', BACKUP_CRON: 'off', WEBHOOK_RETRY_POLL_MS: '100' });
const receivers: TestReceiver[] = [];

afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

async function startScheduler(extra: Record<string, string>): Promise<CatalyticProcess> {
  const proc = spawnCatalytic(['scheduler'], { ...env.env, ...extra });
  await proc.waitForLine(/catalytic scheduler is running/);
  return proc;
}

const delivery = (id: string) =>
  env.db('webhook_deliveries').where({ id }).first<{ status: string; attempts: number; next_attempt_at: Date | null; event_id: string }>();

describe('scheduler processes', () => {
  // Each test has its own tenant, so events reach only that test's endpoint.
  let tenantId: string;
  beforeEach(async () => {
    tenantId = (await createTestTenant(env.db)).tenantId;
  });

  it('retries after a restart when the scheduler is killed between attempts', async () => {
    let secret = '';
    const r = await new TestReceiver({ secrets: () => [secret], respond: (_req, nth) => ({ status: nth < 2 ? 500 : 200 }) }).start();
    receivers.push(r);
    const schedule = { WEBHOOK_RETRY_SCHEDULE_MS: '200,1500,200' };
    const endpoint = await insertEndpoint(env.db, tenantId, r.url);
    secret = endpoint.secret;

    const first = await startScheduler(schedule);
    const jobId = await insertJob(env.db, tenantId, { status: 'running' });
    const [deliveryId] = (await finishJobWithEvent(env.db, tenantId, jobId)) as [string];
    // No worker runs here: the scheduler makes the first attempt once its grace period is over.
    await eventually(async () => ((await delivery(deliveryId))?.attempts === 1 ? true : undefined));
    first.child.kill('SIGKILL');
    await first.exited;
    const afterKill = await delivery(deliveryId);
    expect(afterKill).toMatchObject({ status: 'pending', attempts: 1 });

    // The retry falls due while no scheduler runs, and nothing sends it.
    const due = (afterKill?.next_attempt_at as Date).getTime();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()) + 300));
    expect(r.requests).toHaveLength(1);

    const restartedAt = Date.now();
    const second = await startScheduler(schedule);
    const done = await eventually(async () => {
      const row = await delivery(deliveryId);
      return row?.status === 'succeeded' ? row : undefined;
    });
    expect(done.attempts).toBe(3);
    expect(r.requests).toHaveLength(3);
    expect(r.requests[1]?.at).toBeGreaterThan(restartedAt);
    expect(new Set(r.requests.map((q) => q.headers['webhook-id']))).toEqual(new Set([done.event_id]));
    for (const q of r.requests) expect(q.verifiedWith).toEqual([0]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('never makes one attempt twice with two schedulers running', async () => {
    // Slow answers keep runs overlapping, so both processes claim deliveries at the same time.
    const r = await new TestReceiver({ respond: (_req, nth) => ({ status: nth < 2 ? 500 : 200, delayMs: 150 }) }).start();
    receivers.push(r);
    // A webhook-retry run every 100 ms: each run goes to one process, and at the default 5 s one
    // run could send all 48 attempts before the next, leaving the other process nothing to do.
    // One send at a time per process: alone, a process would need ≥ 7 s (48 × 150 ms) for all of
    // them, so a process slowed by a loaded machine still gets its share (with four at a time, one
    // process sent all 48 in 2 of the last 6 full-suite runs).
    const settings = { WEBHOOK_RETRY_SCHEDULE_MS: '100,100,100', WEBHOOK_SENDER_CONCURRENCY: '1', WEBHOOK_RETRY_POLL_MS: '100' };
    const endpoint = await insertEndpoint(env.db, tenantId, r.url);
    const [a, b] = await Promise.all([startScheduler(settings), startScheduler(settings)]);

    const ids: string[] = [];
    for (let i = 0; i < 16; i++) {
      const jobId = await insertJob(env.db, tenantId, { status: 'running' });
      ids.push(...(await finishJobWithEvent(env.db, tenantId, jobId)));
    }
    expect(ids).toHaveLength(16);
    await eventually(
      async () => {
        const rows = await env.db('webhook_deliveries').whereIn('id', ids).where({ status: 'succeeded' }).count<Array<{ n: number }>>({ n: '*' });
        return Number(rows[0]?.n) === ids.length ? true : undefined;
      },
      30_000,
      100,
    );
    const rows = await env.db('webhook_deliveries').whereIn('id', ids).select<Array<{ event_id: string; attempts: number }>>('event_id', 'attempts');
    for (const row of rows) {
      expect(row.attempts).toBe(3);
      expect(r.forEvent(row.event_id)).toHaveLength(3);
    }
    expect(r.requests.filter((q) => q.path === new URL(r.url).pathname)).toHaveLength(48);
    expect(await env.db('webhook_deliveries').where({ webhook_id: endpoint.id }).count<Array<{ n: number }>>({ n: '*' })).toEqual([{ n: 16 }]);

    // Both processes did part of the work.
    const attemptsBy = (p: CatalyticProcess) => p.output().split('\n').filter((l) => l.includes('"msg":"webhook delivery attempt"')).length;
    expect(attemptsBy(a) + attemptsBy(b)).toBe(48);
    expect(attemptsBy(a)).toBeGreaterThan(0);
    expect(attemptsBy(b)).toBeGreaterThan(0);

    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  });
});
