/**
 * What one attempt does with each kind of answer, driven through DeliverySender directly with
 * its own settings: Retry-After, timeouts, the schedule running out, endpoints failing for too
 * long, disabled endpoints, signatures during a secret rotation, one attempt at a time.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/logger.ts';
import { DeliveryBusyError, DeliverySender } from '../../shared/webhooks/delivery-sender.ts';
import { generateWebhookSecret } from '../../shared/webhooks/secrets.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { finishJobWithEvent, insertEndpoint, insertJob, testSecretBox } from './fixtures.ts';
import { TestReceiver } from './receiver.ts';

const env = useTestEnvironment();
const receivers: TestReceiver[] = [];
let tenantId: string;

beforeEach(async () => {
  tenantId = (await createTestTenant(env.db)).tenantId;
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

function sender(overrides: Record<string, string> = {}): DeliverySender {
  const config = parseConfig({ ...env.env, ...overrides });
  return new DeliverySender({ db: env.db, logger: createLogger(config, 'test'), config, secretBox: testSecretBox(), random: () => 0.5 });
}

async function receiver(options: ConstructorParameters<typeof TestReceiver>[0]): Promise<TestReceiver> {
  const r = await new TestReceiver(options).start();
  receivers.push(r);
  return r;
}

async function oneDelivery(url: string): Promise<{ deliveryId: string; webhookId: string; secret: string }> {
  const endpoint = await insertEndpoint(env.db, tenantId, url);
  const jobId = await insertJob(env.db, tenantId, { status: 'running' });
  const [deliveryId] = await finishJobWithEvent(env.db, tenantId, jobId);
  return { deliveryId: deliveryId as string, webhookId: endpoint.id, secret: endpoint.secret };
}

const row = (id: string) => env.db('webhook_deliveries').where({ id }).first();

describe('a delivery attempt', () => {
  it('waits at least Retry-After before the next attempt', async () => {
    const r = await receiver({ respond: () => ({ status: 503, headers: { 'retry-after': '120' } }) });
    const { deliveryId } = await oneDelivery(r.url);
    const before = Date.now();
    const report = await sender({ WEBHOOK_RETRY_SCHEDULE_MS: '1000,3600000' }).attemptIfDue(deliveryId);
    expect(report).toMatchObject({ outcome: 'retrying', statusCode: 503 });
    const wait = (report?.nextAttemptAt?.getTime() ?? 0) - before;
    // The schedule says 1 s; the endpoint asked for two minutes.
    expect(wait).toBeGreaterThanOrEqual(119_000);
    expect(wait).toBeLessThan(125_000);
  });

  it('uses the schedule with jitter when there is no Retry-After, and is not due before then', async () => {
    const r = await receiver({ respond: () => ({ status: 500 }) });
    const { deliveryId } = await oneDelivery(r.url);
    const s = sender({ WEBHOOK_RETRY_SCHEDULE_MS: '60000' });
    const before = Date.now();
    const report = await s.attemptIfDue(deliveryId);
    const wait = (report?.nextAttemptAt?.getTime() ?? 0) - before;
    expect(wait).toBeGreaterThanOrEqual(59_000);
    expect(wait).toBeLessThanOrEqual(61_000);
    // Not due yet: neither a first-attempt dispatch nor a retry run touches it.
    expect(await s.attemptIfDue(deliveryId)).toBeUndefined();
    expect(await s.attemptNextDue()).toBeUndefined();
    expect(r.requests).toHaveLength(1);
  });

  it('gives up on a receiver slower than WEBHOOK_TIMEOUT_MS', async () => {
    const r = await receiver({ respond: () => ({ status: 200, delayMs: 2000 }) });
    const { deliveryId } = await oneDelivery(r.url);
    const started = Date.now();
    const report = await sender({ WEBHOOK_TIMEOUT_MS: '300' }).attemptIfDue(deliveryId);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(report).toMatchObject({ outcome: 'retrying', statusCode: null });
    expect(report?.error).toMatch(/ETIMEDOUT/);
  });

  it('fails the delivery when the schedule is used up', async () => {
    const r = await receiver({ respond: () => ({ status: 502 }) });
    const { deliveryId } = await oneDelivery(r.url);
    const s = sender({ WEBHOOK_RETRY_SCHEDULE_MS: '0' });
    expect((await s.attemptIfDue(deliveryId))?.outcome).toBe('retrying');
    expect((await s.attemptIfDue(deliveryId))?.outcome).toBe('failed');
    expect(await row(deliveryId)).toMatchObject({ status: 'failed', attempts: 2, last_status_code: 502, next_attempt_at: null });
    expect(await s.attemptIfDue(deliveryId)).toBeUndefined();
  });

  it('disables an endpoint that has failed every attempt for WEBHOOK_DISABLE_AFTER_MS', async () => {
    const r = await receiver({ respond: () => ({ status: 500 }) });
    const { deliveryId, webhookId } = await oneDelivery(r.url);
    const s = sender({ WEBHOOK_DISABLE_AFTER_MS: '3600000', WEBHOOK_RETRY_SCHEDULE_MS: '0,0,0' });
    expect((await s.attemptIfDue(deliveryId))?.outcome).toBe('retrying');
    const failing = await env.db('webhooks').where({ id: webhookId }).first('failing_since', 'enabled');
    expect(failing.enabled).toBe(true);
    expect(failing.failing_since).toBeInstanceOf(Date);
    // Pretend the failures started over an hour ago.
    await env.db('webhooks').where({ id: webhookId }).update({ failing_since: env.db.raw(`now() - interval '61 minutes'`) });
    expect((await s.attemptIfDue(deliveryId))?.outcome).toBe('endpoint_disabled');
    const endpoint = await env.db('webhooks').where({ id: webhookId }).first('enabled', 'disabled_reason');
    expect(endpoint.enabled).toBe(false);
    expect(endpoint.disabled_reason).toMatch(/Every attempt failed for 1 hour$/);
    expect(await row(deliveryId)).toMatchObject({ status: 'failed', attempts: 2 });
  });

  it('fails pending deliveries of a disabled endpoint without sending them', async () => {
    const r = await receiver({});
    const { deliveryId, webhookId } = await oneDelivery(r.url);
    await env.db('webhooks').where({ id: webhookId }).update({ enabled: false, disabled_reason: 'Disabled by a user' });
    expect(await sender().attemptIfDue(deliveryId)).toMatchObject({ outcome: 'failed', attempts: 0, error: 'The endpoint is disabled' });
    expect(r.requests).toHaveLength(0);
  });

  it('signs with both secrets during a rotation window, and with the new one only after it', async () => {
    const oldSecret = generateWebhookSecret();
    let secrets: string[] = [];
    const r = await receiver({ secrets: () => secrets });
    const { deliveryId, webhookId, secret } = await oneDelivery(r.url);
    secrets = [oldSecret, secret];
    await env.db('webhooks').where({ id: webhookId }).update({
      previous_secret: oldSecret,
      previous_secret_expires_at: env.db.raw(`now() + interval '1 hour'`),
    });
    const s = sender();
    await s.attemptNow(deliveryId);
    expect(r.requests[0]?.verifiedWith).toEqual([0, 1]);
    expect(String(r.requests[0]?.headers['webhook-signature']).split(' ')).toHaveLength(2);

    await env.db('webhooks').where({ id: webhookId }).update({ previous_secret_expires_at: env.db.raw(`now() - interval '1 second'`) });
    await s.attemptNow(deliveryId);
    expect(r.requests[1]?.verifiedWith).toEqual([1]);
    expect(String(r.requests[1]?.headers['webhook-signature']).split(' ')).toHaveLength(1);
  });

  it('never runs two attempts of one delivery at once', async () => {
    const r = await receiver({ respond: () => ({ status: 500, delayMs: 400 }) });
    const { deliveryId } = await oneDelivery(r.url);
    const s = sender({ WEBHOOK_RETRY_SCHEDULE_MS: '0,0,0,0' });
    // Five claims race for one due delivery while its attempt is in flight.
    const [first, ...others] = await Promise.all([
      s.attemptIfDue(deliveryId),
      new Promise((resolve) => setTimeout(resolve, 100)).then(() =>
        Promise.all([s.attemptIfDue(deliveryId), s.attemptNextDue(), s.attemptNextDue(), s.attemptNow(deliveryId).catch((e: unknown) => e)]),
      ),
    ]);
    expect(first?.outcome).toBe('retrying');
    const [due, next1, next2, manual] = others[0] as [unknown, unknown, unknown, unknown];
    expect(due).toBeUndefined();
    expect(next1).toBeUndefined();
    expect(next2).toBeUndefined();
    expect(manual).toBeInstanceOf(DeliveryBusyError);
    expect(r.requests).toHaveLength(1);
    expect(await row(deliveryId)).toMatchObject({ attempts: 1 });
  });

  it('leaves a delivery with a live lease alone, and takes it over once the lease has expired (its attempt died)', async () => {
    const r = await receiver({});
    const { deliveryId } = await oneDelivery(r.url);
    const s = sender();
    // Only this delivery could be due.
    await env.db('webhook_deliveries').whereNot({ id: deliveryId }).delete();
    // What a process that claimed the delivery and then died leaves behind.
    await env.db('webhook_deliveries').where({ id: deliveryId }).update({ lease_token: crypto.randomUUID(), lease_expires_at: env.db.raw(`now() + interval '1 minute'`) });
    expect(await s.attemptIfDue(deliveryId)).toBeUndefined();
    expect(await s.attemptNextDue()).toBeUndefined();
    await expect(s.attemptNow(deliveryId)).rejects.toBeInstanceOf(DeliveryBusyError);
    expect(r.requests).toHaveLength(0);

    await env.db('webhook_deliveries').where({ id: deliveryId }).update({ lease_expires_at: env.db.raw(`now() - interval '1 second'`) });
    expect(await s.attemptIfDue(deliveryId)).toMatchObject({ outcome: 'succeeded', attempts: 1 });
    expect(await row(deliveryId)).toMatchObject({ status: 'succeeded', lease_token: null, lease_expires_at: null });
    expect(r.requests).toHaveLength(1);
  });
});
