/**
 * The identity collaborators of the API, built once per process: signing keys, access tokens,
 * revocations, sessions, plan lookups, the credential cache, rate limits and the API-call quota.
 */
import { closeRedis, perTurnCopy, type RedisClient } from '../../shared/redis.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { AccountLockout } from './account-lockout.ts';
import { ApiCallQuota } from '../middleware/api-quota.ts';
import { RateLimits } from '../middleware/rate-limit.ts';
import { AccessTokens } from './access-tokens.ts';
import type { CachedApiKey, TokenUserRow } from './authenticate.ts';
import { type PrincipalCache, PrincipalInvalidations } from './principal-cache.ts';
import { PlanCache } from './plan-cache.ts';
import { TokenRevocations } from './revocations.ts';
import { Sessions } from './sessions.ts';
import { type KeyRing, loadKeyRing } from './signing-keys.ts';

export interface Identity {
  keys: KeyRing;
  tokens: AccessTokens;
  revocations: TokenRevocations;
  sessions: Sessions;
  plans: PlanCache;
  rateLimits: RateLimits;
  /** Consecutive failed sign-ins per account. */
  lockout: AccountLockout;
  quota: ApiCallQuota;
  /**
   * The connection for the per-request commands whose order against other callers does not
   * matter (the rate-limit guard's count, revocation and job-version reads): its commands of one
   * event-loop turn leave in one write, so the requests of a turn share one round trip
   * (docs/performance.md › One round trip for the request guards).
   */
  perRequest: RedisClient;
  /** Cached credential lookups and the channel that invalidates them in every API process. */
  credentials: {
    invalidations: PrincipalInvalidations;
    apiKeys: PrincipalCache<CachedApiKey>;
    users: PrincipalCache<TokenUserRow>;
  };
  /** Writes the API calls counted but not yet written, and stops listening for invalidations. */
  close(): Promise<void>;
}

export function createIdentity(runtime: Runtime): Identity {
  const { config, db, redis, logger } = runtime;
  const perRequest = perTurnCopy(redis, 'catalytic:per-request');
  // Lives as long as the runtime's connection, even where nobody closes the identity.
  redis.once('end', () => void closeRedis(perRequest));
  const keys = loadKeyRing(config);
  const tokens = new AccessTokens(keys, { issuer: config.JWT_ISSUER, ttlMs: config.ACCESS_TOKEN_TTL_MS });
  const revocations = new TokenRevocations(redis, config.REDIS_PREFIX, perRequest);
  const plans = new PlanCache(db);
  const invalidations = new PrincipalInvalidations(redis, `${config.REDIS_PREFIX}:principals:invalidate`, logger);
  const cacheOptions = { ttlMs: config.PRINCIPAL_CACHE_TTL_MS, maxEntries: config.PRINCIPAL_CACHE_MAX_ENTRIES };
  const quota = new ApiCallQuota(db, plans, { flushMs: config.USAGE_FLUSH_MS, logger });
  return {
    keys,
    tokens,
    revocations,
    sessions: new Sessions(db, tokens, revocations, config.REFRESH_TOKEN_TTL_MS),
    plans,
    rateLimits: new RateLimits({
      redis,
      guardRedis: perRequest,
      prefix: config.REDIS_PREFIX,
      plans,
      logger,
      loginPer5Min: config.RATE_LIMIT_LOGIN_PER_5MIN,
      registerPerHour: config.RATE_LIMIT_REGISTER_PER_HOUR,
      credentialPerSecond: config.RATE_LIMIT_CREDENTIAL_PER_SECOND,
    }),
    lockout: new AccountLockout({
      redis,
      prefix: config.REDIS_PREFIX,
      logger,
      maxFailures: config.LOGIN_LOCKOUT_FAILURES,
      lockMs: config.LOGIN_LOCKOUT_MS,
    }),
    quota,
    perRequest,
    credentials: {
      invalidations,
      apiKeys: invalidations.cache<CachedApiKey>(cacheOptions),
      users: invalidations.cache<TokenUserRow>(cacheOptions),
    },
    async close() {
      await Promise.allSettled([quota.close(), invalidations.close(), closeRedis(perRequest)]);
    },
  };
}
