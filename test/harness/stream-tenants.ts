/**
 * The tenants a job stream runs for in the cluster suites: plan limits lifted (the suites measure
 * the cluster, not the plans), one tenant per plan, each with a webhook endpoint on the receiver
 * subscribed to every final job event.
 */
import { expect } from 'vitest';
import type { Db } from '../../shared/db.ts';
import { createTestTenant } from '../support/tenants.ts';
import type { ApiClient } from './api-client.ts';
import type { StreamTenant } from './job-stream.ts';
import type { WebhookReceiver } from './webhook-receiver.ts';

export interface StreamTenants {
  tenants: StreamTenant[];
  /** The receiver path of each tenant's endpoint, by tenant id. */
  paths: Map<string, string>;
}

export async function createStreamTenants(
  db: Db,
  client: ApiClient,
  receiver: WebhookReceiver,
  options: { plans: readonly string[]; namePrefix: string },
): Promise<StreamTenants> {
  await db('plans').update({ requests_per_minute: 1_000_000, api_calls_per_month: -1, jobs_per_month: -1, compute_units_per_month: -1 });
  const made: StreamTenants = { tenants: [], paths: new Map() };
  for (const [i, plan] of options.plans.entries()) {
    const tenant = await createTestTenant(db, { plan, name: `${options.namePrefix}-${i + 1}` });
    const path = `/tenant-${i + 1}`;
    const created = await client.request<{ secret: string }>('/api/webhooks', {
      body: { url: receiver.url(path), events: ['job.completed', 'job.failed', 'job.cancelled'] },
      headers: tenant.headers,
      idempotencyKey: true,
    });
    expect(created.status).toBe(201);
    receiver.setSecret(path, created.body.secret);
    made.tenants.push({ tenantId: tenant.tenantId, headers: tenant.headers });
    made.paths.set(tenant.tenantId, path);
  }
  return made;
}
