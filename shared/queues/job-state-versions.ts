/**
 * Job state versions in Redis: per job, the highest `jobs.state_version` (a counter PostgreSQL
 * raises on every change a client could see) that any process has written or read. API processes
 * keep job reads in memory under the version they were read at and compare it with this key on
 * every read (docs/architecture.md › Job reads and the job-state cache).
 *
 * The key only ever rises: writers raise it after their commit, and a reader that found a newer
 * row in PostgreSQL raises it before answering, so no process can answer an older state once any
 * client has seen a newer one.
 */
import { DAY } from '../units.ts';
import { isCluster, type RedisClient } from '../redis.ts';
import { jobChannel, jobStateVersionKey, type JobUpdate } from './names.ts';
import { RedisScript } from './redis-script.ts';

/** How long a job's version key outlives its last write; a missing key only costs a database read. */
export const JOB_STATE_VERSION_TTL_MS = DAY;

/**
 * KEYS[1] the version key. ARGV: the version, the TTL in ms, and optionally a channel and a
 * message to publish once the version is in place (so a follower woken by the message reads it).
 */
const RAISE = new RedisScript(
  'raise-job-state-version',
  `local current = tonumber(redis.call('get', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > current then
  redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2])
else
  redis.call('pexpire', KEYS[1], ARGV[2])
end
if ARGV[3] then redis.call('publish', ARGV[3], ARGV[4]) end
return current`,
);

/** Raises the job's version key to `version` (never lowers it). */
export async function raiseJobStateVersion(redis: RedisClient, prefix: string, jobId: string, version: number): Promise<void> {
  await RAISE.run(redis, [jobStateVersionKey(prefix, jobId)], [version, JOB_STATE_VERSION_TTL_MS]);
}

/** Raises the version and publishes the update on the job's channel, in one round trip. */
export async function raiseAndPublish(redis: RedisClient, prefix: string, update: JobUpdate & { version: number }): Promise<void> {
  await RAISE.run(
    redis,
    [jobStateVersionKey(prefix, update.id)],
    [update.version, JOB_STATE_VERSION_TTL_MS, jobChannel(prefix, update.id), JSON.stringify(update)],
  );
}

/** The job's version key, or undefined when it is missing (expired, flushed, never written). */
export async function readJobStateVersion(redis: RedisClient, prefix: string, jobId: string): Promise<number | undefined> {
  const value = await redis.get(jobStateVersionKey(prefix, jobId));
  return value === null ? undefined : Number(value);
}

/**
 * KEYS: the version keys. ARGV[1] the TTL in ms, then per key its version, channel and message:
 * RAISE for many jobs in one call (the keys need not share a slot: used on one Redis only).
 */
const RAISE_MANY = new RedisScript(
  'raise-job-state-versions',
  `for i = 1, #KEYS do
  local at = 3 * i - 1
  local current = tonumber(redis.call('get', KEYS[i]) or '-1')
  if tonumber(ARGV[at]) > current then
    redis.call('set', KEYS[i], ARGV[at], 'px', ARGV[1])
  else
    redis.call('pexpire', KEYS[i], ARGV[1])
  end
  redis.call('publish', ARGV[at + 1], ARGV[at + 2])
end
return #KEYS`,
);

/**
 * {@link raiseAndPublish} for many jobs: on one Redis in one script call (one command to encode
 * and one round trip for a whole group commit of final states); on a Redis Cluster, where one
 * call's keys must share a slot and jobs' keys do not, one call per job, all sent at once.
 */
export async function raiseAndPublishMany(redis: RedisClient, prefix: string, updates: ReadonlyArray<JobUpdate & { version: number }>): Promise<void> {
  if (updates.length === 0) return;
  if (updates.length === 1 || isCluster(redis)) {
    await Promise.all(updates.map((update) => raiseAndPublish(redis, prefix, update)));
    return;
  }
  const keys: string[] = [];
  const args: Array<string | number> = [JOB_STATE_VERSION_TTL_MS];
  for (const update of updates) {
    keys.push(jobStateVersionKey(prefix, update.id));
    args.push(update.version, jobChannel(prefix, update.id), JSON.stringify(update));
  }
  await RAISE_MANY.run(redis, keys, args);
}
