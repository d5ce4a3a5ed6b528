/**
 * The state versions and end messages of a group of jobs in one call (publishJobUpdates): each
 * job's key rises to its version and never falls, keeps its TTL, and each job's followers get its
 * own message, after its key is in place; as one job at a time does (publishJobUpdate).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_STATE_VERSION_TTL_MS, readJobStateVersion } from '../../shared/queues/job-state-versions.ts';
import { publishJobUpdate, publishJobUpdates } from '../../shared/queues/job-updates.ts';
import { jobChannel, jobStateVersionKey, type JobUpdate } from '../../shared/queues/names.ts';
import { createRedis, deleteKeysWithPrefix, type Redis } from '../../shared/redis.ts';

const prefix = `test-versions-${randomUUID().slice(0, 8)}`;
let redis: Redis;
let subscriber: Redis;

beforeAll(() => {
  redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  subscriber = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
  subscriber.disconnect();
});

describe('publishJobUpdates', () => {
  it('raises every job of the group to its version, never lowers one, and publishes each its own end after its key', async () => {
    const ids = Array.from({ length: 50 }, () => randomUUID());
    // Some jobs' keys are already ahead (another process read a newer row): they stay.
    for (const [i, id] of ids.entries()) if (i % 5 === 0) await redis.set(jobStateVersionKey(prefix, id), 100 + i);
    const received: Array<{ update: JobUpdate; keyThen: string | null }> = [];
    const reader = redis.duplicate();
    subscriber.on('message', (channel: string, message: string) => {
      const id = channel.slice(channel.lastIndexOf(':') + 1);
      // What a follower woken by the message reads.
      void reader.get(jobStateVersionKey(prefix, id)).then((keyThen) => received.push({ update: JSON.parse(message) as JobUpdate, keyThen }));
    });
    await subscriber.subscribe(...ids.map((id) => jobChannel(prefix, id)));
    const updates = ids.map((id, i) => ({ id, status: i % 2 === 0 ? 'completed' : 'failed', progress: i % 2 === 0 ? 1 : 0.5, version: 3 + i }));
    await publishJobUpdates(redis, prefix, updates);
    await expect.poll(() => received.length).toBe(ids.length);
    for (const [i, id] of ids.entries()) {
      const expected = i % 5 === 0 ? 100 + i : 3 + i;
      expect(await readJobStateVersion(redis, prefix, id)).toBe(expected);
      const ttl = await redis.pttl(jobStateVersionKey(prefix, id));
      expect(ttl).toBeGreaterThan(JOB_STATE_VERSION_TTL_MS - 60_000);
      const got = received.find((r) => r.update.id === id);
      expect(got?.update).toEqual(updates[i]);
      expect(Number(got?.keyThen)).toBeGreaterThanOrEqual(3 + i);
    }
    reader.disconnect();
  });

  it('leaves the keys as one job at a time would', async () => {
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const versions = ids.map((_, i) => (i * 7) % 11);
    const one = `${prefix}-one`;
    for (const [i, id] of ids.entries()) {
      if (i % 3 !== 0) continue;
      await redis.set(jobStateVersionKey(one, id), 5);
      await redis.set(jobStateVersionKey(prefix, id), 5);
    }
    for (const [i, id] of ids.entries()) await publishJobUpdate(redis, one, { id, status: 'completed', progress: 1, version: versions[i]! });
    await publishJobUpdates(redis, prefix, ids.map((id, i) => ({ id, status: 'completed', progress: 1, version: versions[i]! })));
    for (const id of ids) expect(await readJobStateVersion(redis, prefix, id)).toBe(await readJobStateVersion(redis, one, id));
    await deleteKeysWithPrefix(redis, one);
    // Nothing to publish is no call; a failing Redis is logged, not thrown.
    await publishJobUpdates(redis, prefix, []);
    const gone = redis.duplicate();
    gone.disconnect();
    const warned: unknown[] = [];
    await publishJobUpdates(gone, prefix, [{ id: ids[0]!, status: 'completed', progress: 1, version: 1 }, { id: ids[1]!, status: 'completed', progress: 1, version: 1 }], {
      warn: (...args: unknown[]) => void warned.push(args),
    } as never);
    expect(warned).toHaveLength(1);
  });
});
