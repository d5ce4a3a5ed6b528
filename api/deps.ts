/** Builds the API's collaborators once per process. */
import type { Runtime } from '../shared/runtime.ts';
import { accessTokenVerifier, apiKeyVerifier } from './auth/authenticate.ts';
import { createIdentity } from './auth/identity.ts';
import type { ApiDeps } from './state.ts';

/**
 * The API sees the runtime with `db` set to its row-level-security pool: every query of a request
 * runs as the application role, and reads across tenants only through the definer functions.
 */
export function createApiDeps(shared: Runtime): ApiDeps {
  const runtime: Runtime = {
    config: shared.config,
    logger: shared.logger,
    db: shared.appDb,
    appDb: shared.appDb,
    redis: shared.redis,
    redisProbe: shared.redisProbe,
    startedAt: shared.startedAt,
    // Still loaded on first use, as in the shared runtime.
    get secretBox() {
      return shared.secretBox;
    },
    close: () => shared.close(),
  };
  const identity = createIdentity(runtime);
  const partial: ApiDeps = { runtime, verifiers: [], identity };
  return {
    ...partial,
    verifiers: [apiKeyVerifier(partial), accessTokenVerifier(partial)],
    // Rate limits first, so a request over them costs no database write.
    guards: [identity.rateLimits.guard, identity.quota.guard],
  };
}
