/**
 * A submission is answered once its row is committed and queued in the background
 * (api/jobs/submit-batcher.ts). An API that stops between the two queues what it has answered
 * before its queue connection closes, so a graceful stop never leaves an accepted job for
 * reconcile to find a minute later.
 */
import { describe, expect, it } from 'vitest';
import { tenantQueueKey } from '../../shared/queues/names.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { holdQueueing, submit } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

const tinyJob = { type: 'shortest_path', lattice: { shape: [3, 3] }, params: { start: [0, 0], end: [2, 2] } };

describe('an API stopping with answered submissions not yet queued', () => {
  it('queues them before it closes', async () => {
    const tenant = await createTestTenant(env.db);
    const { held, release, restore } = holdQueueing(api);
    try {
      const job = await submit(api, tenant.headers, tinyJob);
      expect(held).toHaveBeenCalled();
      let closed = false;
      const closing = api.server.close().then(() => (closed = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The queueing is held back, so the API is still waiting for it.
      expect(closed).toBe(false);
      release();
      await closing;
      expect(await env.redis.exists(tenantQueueKey(env.redisPrefix, tenant.tenantId, job.id))).toBe(1);
    } finally {
      restore();
    }
  });
});
