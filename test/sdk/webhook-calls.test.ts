/**
 * The SDK's webhook calls against the real API: endpoints created, listed, read, changed and
 * deleted; a signed test event reaches a real receiver; deliveries are listed, read and sent
 * again; the secret rotates.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalyticApiError, CatalyticClient } from '../../client/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let client: CatalyticClient;
let receiver: Server;
let receiverUrl: string;
const received: Array<{ headers: Record<string, string>; body: string }> = [];

beforeAll(async () => {
  const tenant = await createTestTenant(env.db);
  client = new CatalyticClient({ baseUrl: api.url, apiKey: tenant.apiKey });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});

afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('webhooks', () => {
  it('manages an endpoint and its deliveries end to end', async () => {
    const created = await client.webhooks.create({ url: receiverUrl, events: ['job.completed', 'job.failed'], description: 'ops' });
    expect(created).toMatchObject({ url: receiverUrl, events: ['job.completed', 'job.failed'], enabled: true, description: 'ops' });
    expect(created.secret).toMatch(/^whsec_/);

    expect((await client.webhooks.list()).map((e) => e.id)).toEqual([created.id]);
    expect(await client.webhooks.get(created.id)).toMatchObject({ id: created.id, enabled: true });
    const updated = await client.webhooks.update(created.id, { events: ['job.completed'], description: null });
    expect(updated).toMatchObject({ events: ['job.completed'], description: null });

    const test = await client.webhooks.test(created.id);
    expect(test).toMatchObject({ webhook_id: created.id, event_type: 'webhook.test', status: 'succeeded', attempts: 1, last_status_code: 204 });
    expect(received).toHaveLength(1);
    const delivered = received[0]!;
    // The event is signed with the endpoint's secret, per Standard Webhooks.
    expect(() => new Webhook(created.secret).verify(delivered.body, delivered.headers)).not.toThrow();
    expect(delivered.headers['webhook-id']).toBe(test.event_id);

    const page = await client.webhooks.deliveries(created.id, { limit: 10 });
    expect(page.data.map((d) => d.id)).toEqual([test.id]);
    expect(page.next_cursor).toBeNull();
    const all = [];
    for await (const delivery of client.webhooks.allDeliveries(created.id, { status: 'succeeded' })) all.push(delivery.id);
    expect(all).toEqual([test.id]);
    const withPayload = await client.webhooks.delivery(created.id, test.id);
    expect(withPayload.payload).toMatchObject({ type: 'webhook.test' });

    const again = await client.webhooks.redeliver(created.id, test.id);
    expect(again).toMatchObject({ id: test.id, status: 'succeeded', attempts: 2 });
    expect(received).toHaveLength(2);
    expect(received[1]!.headers['webhook-id']).toBe(test.event_id);

    const rotated = await client.webhooks.rotateSecret(created.id, { previous_secret_ttl_s: 60 });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.previous_secret_expires_at).toEqual(expect.any(String));

    await client.webhooks.delete(created.id);
    const gone = await client.webhooks.get(created.id).catch((err: unknown) => err);
    expect(gone).toBeInstanceOf(CatalyticApiError);
    expect(gone).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('refuses an unknown event type field by field', async () => {
    const error = await client.webhooks
      .create({ url: receiverUrl, events: ['job.exploded' as 'job.completed'] })
      .catch((err: unknown) => err as CatalyticApiError);
    expect(error).toBeInstanceOf(CatalyticApiError);
    expect(error).toMatchObject({ status: 400, code: 'validation_failed' });
    expect((error as CatalyticApiError).errors[0]?.path).toMatch(/^body\.events/);
  });
});
