/**
 * A written batch queued in one Redis round trip (shared/queues/add-and-mark.ts): BullMQ's adds
 * and the tenant's ready mark go in one pipeline, the mark after the adds; the adds stay
 * idempotent by the rows' ids, and a Redis that has not seen the mark's script yet still gets it.
 */
import { randomUUID } from 'node:crypto';
import { Pipeline, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fairKeys, tenantQueueKey } from '../../shared/queues/names.ts';
import { JobProducer } from '../../shared/queues/producer.ts';
import { settleMarkReady } from '../../shared/queues/ready-set.ts';
import { createRedis } from '../../shared/redis.ts';
import { useTestEnvironment } from '../support/context.ts';

const env = useTestEnvironment();
// A connection of the producer's own.
let redis: Redis;
let producer: JobProducer;

beforeAll(() => {
  redis = createRedis(env.env.REDIS_URL as string, { connectionName: 'queue-one-round-trip' });
  producer = new JobProducer(redis, env.redisPrefix);
});

afterAll(async () => {
  await producer.close();
  redis.disconnect();
});

const jobsOf = (tenantId: string, n: number) => Array.from({ length: n }, () => ({ id: randomUUID(), tenantId, type: 'shortest_path', memoryBytes: 4096 }));
const waiting = (tenantId: string) => env.redis.lrange(tenantQueueKey(env.redisPrefix, tenantId, 'wait'), 0, -1);
const readyScore = (tenantId: string) => env.redis.zscore(fairKeys(env.redisPrefix).ready, tenantId);

describe('JobProducer.enqueueMany', () => {
  it('adds the jobs and marks the tenant in one pipeline, with no command of its own', async () => {
    const tenantId = randomUUID();
    // Once, so that BullMQ has loaded its scripts and the queue object exists.
    await producer.enqueueMany(tenantId, jobsOf(tenantId, 1));
    const exec = vi.spyOn(Pipeline.prototype, 'exec');
    const evalsha = vi.spyOn(Redis.prototype, 'evalsha');
    const sent = vi.spyOn(Redis.prototype, 'sendCommand');
    const jobs = jobsOf(tenantId, 3);
    try {
      await env.redis.zrem(fairKeys(env.redisPrefix).ready, tenantId);
      await producer.enqueueMany(tenantId, jobs);
      expect(exec).toHaveBeenCalledTimes(1);
      expect(evalsha).not.toHaveBeenCalled();
      // Every command went through the one pipeline: as many as its adds and the mark.
      const names = sent.mock.calls.map(([command]) => (command as { name: string }).name);
      expect(names.filter((name) => name === 'evalsha')).toHaveLength(4);
    } finally {
      exec.mockRestore();
      evalsha.mockRestore();
      sent.mockRestore();
    }
    expect((await waiting(tenantId)).slice(0, 3).reverse()).toEqual(jobs.map((j) => j.id));
    expect(await readyScore(tenantId)).toBe('0');
  });

  it('adds a job once however often it is queued', async () => {
    const tenantId = randomUUID();
    const jobs = jobsOf(tenantId, 2);
    await producer.enqueueMany(tenantId, jobs);
    await producer.enqueueMany(tenantId, jobs);
    expect(await waiting(tenantId)).toHaveLength(2);
  });

  it('marks the tenant again by EVAL when Redis did not know the mark script (NOSCRIPT)', async () => {
    const tenantId = randomUUID();
    expect(await readyScore(tenantId)).toBeNull();
    await settleMarkReady([new Error('NOSCRIPT No matching script. Please use EVAL.'), null], redis, env.redisPrefix, tenantId);
    expect(await readyScore(tenantId)).toBe('0');
    await expect(settleMarkReady([new Error('ERR something else'), null], redis, env.redisPrefix, randomUUID())).rejects.toThrow(/something else/);
    await settleMarkReady([null, 1], redis, env.redisPrefix, randomUUID());
  });
});
