/**
 * `catalytic webhooks listen` against the real API and a real worker: it registers a temporary
 * endpoint on this machine, prints each signed event as it arrives, refuses a forged one, and
 * removes the endpoint when stopped with Ctrl-C.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { spawnCatalytic } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { startWorker } from './stack.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'catalytic-listen-'));
  tenant = await createTestTenant(env.db, { plan: 'starter' });
  await startWorker(env);
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('webhooks listen', () => {
  it('prints signed job events as they arrive, refuses forged ones, and removes its endpoint on Ctrl-C', async () => {
    const listener = spawnCatalytic(['webhooks', 'listen'], {
      CATALYTIC_URL: api.url,
      CATALYTIC_API_KEY: tenant.apiKey,
      CATALYTIC_CONFIG: join(home, 'credentials.json'),
      HOME: home,
    });
    const ready = await listener.waitForLine(/^Listening on http:\/\/127\.0\.0\.1:\d+\/events \(endpoint [0-9a-f-]{36}\)/, 30_000);
    const [, url, endpointId] = /^Listening on (\S+) \(endpoint ([0-9a-f-]{36})\)/.exec(ready) ?? [];

    const submitted = await api.request('/api/jobs', {
      headers: tenant.headers,
      body: { type: 'components', lattice: { shape: [8, 8], obstacles: { density: 0.3, seed: 1 } } },
    });
    expect(submitted.status).toBe(202);
    const job = (await submitted.json()) as { id: string };
    const line = await listener.waitForLine(new RegExp(`job\\.completed\\s+evt_\\S+\\s+job ${job.id} components completed`), 30_000);
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT/);

    // A request that is not signed with the endpoint's secret is refused and reported.
    const forged = await fetch(url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' },
      body: JSON.stringify({ id: 'evt_forged', type: 'job.completed', data: {} }),
    });
    expect(forged.status).toBe(400);
    await listener.waitForLine(/refused a request whose signature does not verify/);
    expect(listener.output()).not.toMatch(/evt_forged/);

    listener.child.kill('SIGINT');
    expect(await listener.exited).toBe(0);
    expect(listener.output()).toMatch(new RegExp(`Removed endpoint ${endpointId}`));
    const endpoints = await env.db('webhooks').where({ tenant_id: tenant.tenantId });
    expect(endpoints).toHaveLength(0);
  });
});
