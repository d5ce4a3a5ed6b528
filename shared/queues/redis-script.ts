/**
 * A Lua script run with EVALSHA, falling back to EVAL the first time a server has not seen it.
 * Works the same on one Redis and on a Redis Cluster (where every key of one call must share a
 * slot — the callers' key names take care of that).
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis.ts';

export type ScriptArg = string | number;

export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: RedisClient, keys: readonly string[], args: readonly ScriptArg[] = []): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      // On a cluster the reply may come wrapped ("Too many Cluster redirections. Last error:
      // NOSCRIPT …" when a failover promoted a replica that never loaded the script).
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
