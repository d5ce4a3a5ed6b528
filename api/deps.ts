/**
 * Builds the API's collaborators once per process and hands them down to the routes (nothing is
 * looked up from module state); `ApiDeps.close` releases them when the API stops.
 */
import { createBlobStore } from '../shared/blobs/index.ts';
import { MailOutbox } from '../shared/mail/mail-queue.ts';
import { defaultQueueOpeners, QueueCatalog } from '../shared/queue-catalog.ts';
import type { Runtime } from '../shared/runtime.ts';
import { EmailVerification } from './account/email-verification.ts';
import { PasswordService } from './account/password-service.ts';
import { accessTokenVerifier, apiKeyVerifier } from './auth/authenticate.ts';
import { createIdentity } from './auth/identity.ts';
import { createBillingProvider } from './billing/billing-provider.ts';
import { Subscriptions } from './billing/subscriptions.ts';
import { BatchesService } from './batches/service.ts';
import { JobsService } from './jobs/jobs-service.ts';
import { TeamService } from './members/service.ts';
import { jsonBodyReader } from './middleware/json-body.ts';
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
  const jobs = new JobsService(runtime, identity.plans, identity.perRequest);
  const batches = new BatchesService(runtime, identity.plans, jobs);
  const subscriptions = new Subscriptions({
    db: runtime.db,
    provider: createBillingProvider(runtime.config),
    plans: identity.plans,
    invalidate: (tenantId) => identity.credentials.invalidations.invalidate({ tenantId }),
  });
  // Through the API's pool: the catalog reads the tenants through the directory function.
  const queues = new QueueCatalog(runtime, defaultQueueOpeners(runtime));
  const mail = new MailOutbox(runtime.config, runtime.redis, runtime.logger);
  const passwords = new PasswordService({
    db: runtime.db,
    sessions: identity.sessions,
    mail,
    rateLimits: identity.rateLimits,
    lockout: identity.lockout,
    config: runtime.config,
    logger: runtime.logger,
  });
  const verification = new EmailVerification({
    db: runtime.db,
    mail,
    rateLimits: identity.rateLimits,
    lockout: identity.lockout,
    config: runtime.config,
    logger: runtime.logger,
    onConfirmed: (trx, tenantId, userId, meta) => subscriptions.openSignUpRequest(trx, tenantId, userId, meta),
  });
  const team = new TeamService({
    db: runtime.db,
    sessions: identity.sessions,
    mail,
    rateLimits: identity.rateLimits,
    invalidations: identity.credentials.invalidations,
    config: runtime.config,
  });
  const close = async (): Promise<void> => {
    // Resets still running behind their answers queue their mail before the queue closes.
    await passwords.settle();
    await Promise.allSettled([identity.close(), jobs.close(), queues.close(), blobs.close(), mail.close()]);
  };
  const readBody = jsonBodyReader(runtime.config.BODY_LIMIT_BYTES);
  const blobs = createBlobStore(runtime.db, runtime.config);
  const partial: ApiDeps = { runtime, verifiers: [], readBody, identity, blobs, jobs, batches, subscriptions, queues, mail, passwords, team, verification, close };
  return {
    ...partial,
    verifiers: [apiKeyVerifier(partial), accessTokenVerifier(partial)],
    // Rate limits first, so a request over them costs no database write.
    guards: [identity.rateLimits.guard, identity.quota.guard],
  };
}
