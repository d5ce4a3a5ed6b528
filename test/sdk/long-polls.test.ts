/**
 * The SDK's polling waits with long polls (`Prefer: wait`, `If-None-Match`): a watcher that only
 * polls hears of a change as it happens, in a handful of requests, not one request per interval.
 */
import { describe, expect, it } from 'vitest';
import { CatalyticClient, type JobUpdate } from '../../client/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

describe('SDK long polls', () => {
  it('a polling watcher sees a cancel within seconds in three reads, though its poll interval is a minute', { timeout: 60_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const reads: Array<{ prefer: string | null; ifNoneMatch: string | null }> = [];
    const counting: typeof fetch = (input, init) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      if ((init?.method ?? 'GET') === 'GET' && /^\/api\/jobs\/[\w-]+$/.test(url.pathname)) {
        const headers = new Headers(init?.headers);
        reads.push({ prefer: headers.get('prefer'), ifNoneMatch: headers.get('if-none-match') });
      }
      return fetch(input, init);
    };
    const client = new CatalyticClient({ baseUrl: api.url, apiKey: tenant.apiKey, fetch: counting });
    // No worker runs: the job stays queued until cancelled.
    const job = await client.jobs.submit({ type: 'shortest_path', lattice: { shape: [3, 3] }, params: { start: [0, 0], end: [2, 2] } });
    const updates: JobUpdate[] = [];
    const started = performance.now();
    const waited = client.jobs.wait(job.id, { transport: 'poll', pollIntervalMs: 60_000, waitSeconds: 20, onUpdate: (u) => updates.push(u) });
    // Once the long poll is held (the first poll only fetched the ETag).
    while (reads.length < 3) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.jobs.cancel(job.id);
    const final = await waited;
    expect(final.status).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(updates.map((u) => u.job.status)).toEqual(['queued', 'cancelled']);
    expect(reads).toHaveLength(3);
    expect(reads[0]).toEqual({ prefer: null, ifNoneMatch: null });
    expect(reads[1]?.ifNoneMatch).toBeNull();
    expect(reads[2]?.prefer).toBe('wait=20');
    expect(reads[2]?.ifNoneMatch).toMatch(/^"[\w-]+"$/);
  });
});
