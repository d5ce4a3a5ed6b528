/**
 * The scaled-out system on a Redis Cluster: 2 API, 2 worker and 2 scheduler processes against a
 * 3-primary cluster (one replica each) started on loopback, every queue and key under one hash
 * tag per queue. Jobs of each type from 3 tenants complete with the results the engine computes,
 * with their webhook events; then the primary holding the fair fetcher's keys is killed under a
 * stream of jobs, its replica takes over, and nothing accepted is lost or done twice.
 */
import { Cluster as RedisClusterClient } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDb, type Db } from '../../shared/db.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { fairKeys, tenantQueueName } from '../../shared/queues/names.ts';
import { parseClusterNodes, scanKeys } from '../../shared/redis.ts';
import { KernelPool } from '../../worker/kernels/index.ts';
import { ApiClient } from '../harness/api-client.ts';
import { type Cluster, startCluster } from '../harness/cluster.ts';
import { type JobBody, JobStream, type StreamTenant } from '../harness/job-stream.ts';
import { balance, waitForFinal, waitForWebhooks } from '../harness/ledger.ts';
import { type RedisCluster, startRedisCluster } from '../harness/redis-cluster.ts';
import { WebhookReceiver } from '../harness/webhook-receiver.ts';
import { createStreamTenants } from '../harness/stream-tenants.ts';
import { SERVER_URL } from '../support/postgres.ts';

let redis: RedisCluster;
let cluster: Cluster;
let db: Db;
let client: ApiClient;
let keys: RedisClusterClient;
let receiver: WebhookReceiver;
let engine: KernelPool;
let failed = false;
let tenants: StreamTenant[] = [];
let paths = new Map<string, string>();
const answered = new Set<string>();

/** Small jobs of each type, varied by `n`. */
function smallJob(n: number): JobBody {
  const seed = 1 + (n % 50);
  switch (n % 3) {
    case 0:
      return { type: 'shortest_path', lattice: { shape: [30, 40], obstacles: { density: 0.25, seed } }, params: { start: [0, 0], end: [29, 39] } };
    case 1:
      return { type: 'components', lattice: { shape: [24, 24], obstacles: { density: 0.4, seed } } };
    default:
      return {
        type: 'diffusion',
        lattice: { dimensions: 3, size: 8, boundary: 'periodic' },
        params: { steps: 20 + seed, alpha: 0.1, sources: [{ cell: [1, 2, 3], value: 2 }] },
      };
  }
}

beforeAll(async () => {
  redis = await startRedisCluster({ primaries: 3, replicas: 1 });
  receiver = await new WebhookReceiver().start();
  engine = new KernelPool({ threads: 1 });
  [cluster] = await Promise.all([
    startCluster({
      postgresServerUrl: SERVER_URL,
      templateDatabase: inject('templateDatabase'),
      redisClusterNodes: redis.seeds,
      apis: 2,
      workers: 2,
      schedulers: 2,
      entry: inject('catalyticBundle'),
    }),
    engine.start(),
  ]);
  db = createDb({ url: cluster.databaseUrl, poolMax: 3 });
  keys = new RedisClusterClient(parseClusterNodes(redis.seeds));
  keys.on('error', () => undefined);
  client = new ApiClient({ urls: () => cluster.apiUrls(), retryForMs: 60_000 });
  ({ tenants, paths } = await createStreamTenants(db, client, receiver, { plans: ['starter', 'professional', 'enterprise'], namePrefix: 'cluster' }));
}, 180_000);

afterAll(async () => {
  keys?.disconnect();
  await db?.destroy();
  await cluster?.stop({ keepLogs: failed });
  if (failed && cluster) console.log(`process logs kept in ${cluster.logDir}`);
  await Promise.allSettled([receiver?.close(), engine?.close(), redis?.stop()]);
}, 60_000);

afterEach(({ task }) => {
  if (task.result?.state === 'fail') failed = true;
});

/** The port of the primary that holds `key`'s slot now. */
async function primaryOf(key: string): Promise<number> {
  const slot = (await keys.cluster('KEYSLOT', key)) as number;
  const ranges = await keys.cluster('SLOTS');
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  const primary = range?.[2];
  if (!primary) throw new Error(`no node serves slot ${slot}`);
  return primary[1];
}

describe('the scaled-out system on a Redis Cluster', () => {
  it('runs jobs of each type from 3 tenants to the results the engine computes', { timeout: 180_000 }, async () => {
    const stream = new JobStream({ client, tenants, job: smallJob, cancelEvery: 0 });
    // Two of each type per tenant (the stream sends job n to tenant n % 3).
    await stream.burst(18);
    expect(stream.refused).toEqual([]);
    expect(stream.errors).toEqual([]);
    const ids = [...stream.accepted.keys()];
    ids.forEach((id) => answered.add(id));
    expect(await waitForFinal(db, ids, 90_000)).toEqual([]);
    await waitForWebhooks(db, receiver, ids, paths, 30_000);

    for (const job of stream.accepted.values()) {
      const tenant = tenants.find((t) => t.tenantId === job.tenantId) as StreamTenant;
      const shown = await client.request<{ status: string; attempts: number; result: unknown }>(`/api/jobs/${job.id}`, { headers: tenant.headers });
      expect(shown.body).toMatchObject({ status: 'completed', attempts: 1 });
      // The summary the engine computes (where the full arrays went depends on the plan).
      const { artefacts, ...result } = shown.body.result as Record<string, unknown>;
      const expected = (await engine.run(job.type, job.body.lattice, job.body.params ?? {})) as { memory_bytes: number };
      // A diffusion that kept its whole field for the artefact (asked for) allocated 4 bytes a cell more.
      if (job.type === 'diffusion' && (artefacts as { links?: Record<string, string> } | undefined)?.links?.['field']) expected.memory_bytes += 4 * resolveLattice(job.body.lattice).cells;
      expect(result).toEqual(expected);
    }
    const ledger = await balance(db, stream.accepted, receiver, paths, { since: new Date(0), knownIds: answered });
    console.log(JSON.stringify({ suite: 'redis-cluster jobs', ...ledger.counts }));
    expect(ledger.problems).toEqual([]);
    expect(ledger.counts).toMatchObject({ accepted: 18, completed: 18, duplicates: 0, lost: 0 });

    // Every key lives in the cluster under a hash tag (keys a script or MULTI uses together share
    // one), except the single-key families: rate-limit counters and revoked tokens.
    const keysPerPrimary: Record<string, number> = {};
    for (const node of keys.nodes('master')) {
      for await (const batch of scanKeys(node, `${cluster.redisPrefix}:*`)) {
        keysPerPrimary[String(node.options.port)] = (keysPerPrimary[String(node.options.port)] ?? 0) + batch.length;
        for (const key of batch) expect(key.slice(cluster.redisPrefix.length)).toMatch(/^:(\{[^}]+\}:|rl:|revoked:|jobv:)/);
      }
    }
    console.log(JSON.stringify({ keysPerPrimary, tenantQueues: tenants.map((t) => tenantQueueName(t.tenantId)) }));
    expect(Object.values(keysPerPrimary).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  it('keeps every accepted job when the primary of the fair fetcher fails over to its replica', { timeout: 240_000 }, async () => {
    const since = new Date();
    const stream = new JobStream({ client, tenants, job: smallJob, perSecond: 4, cancelEvery: 7 }).start();
    let victim = 0;
    try {
      await new Promise((r) => setTimeout(r, 3000));
      await stream.burst(12);
      victim = await primaryOf(fairKeys(cluster.redisPrefix).ready);
      redis.kill(victim);
      // The replica is promoted once the other primaries agree the node is gone (node timeout 2 s).
      await expect
        .poll(async () => primaryOf(fairKeys(cluster.redisPrefix).ready).catch(() => victim), { timeout: 30_000, interval: 250 })
        .not.toBe(victim);
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      await stream.stop();
    }
    const ids = [...stream.accepted.keys()];
    ids.forEach((id) => answered.add(id));
    await waitForFinal(db, ids, 120_000);
    await waitForWebhooks(db, receiver, ids, paths, 60_000);
    await cluster.ready(30_000);
    const ledger = await balance(db, stream.accepted, receiver, paths, { since, knownIds: answered });
    console.log(JSON.stringify({ suite: 'redis-cluster failover', killedPrimary: victim, ...ledger.counts, refused: stream.refused.length, unanswered: stream.errors.length }));
    expect(ledger.problems).toEqual([]);
    expect(stream.refused).toEqual([]);
    expect(stream.errors).toEqual([]);
    expect(ledger.counts.lost).toBe(0);
    expect(ledger.counts.duplicates).toBe(0);
    expect(ledger.counts.accepted).toBeGreaterThan(10);
  });
});
