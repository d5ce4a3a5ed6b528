/**
 * What the API's handlers can reach: the process's collaborators (`ApiDeps`) and per-request
 * state on `ctx.state`.
 */
import type Koa from 'koa';
import type { RouterContext } from '@koa/router';
import type { Principal } from '../shared/auth/principal.ts';
import type { BlobStore } from '../shared/blobs/index.ts';
import type { MailOutbox } from '../shared/mail/mail-queue.ts';
import type { QueueCatalog } from '../shared/queue-catalog.ts';
import type { Runtime } from '../shared/runtime.ts';
import type { EmailVerification } from './account/email-verification.ts';
import type { PasswordService } from './account/password-service.ts';
import type { TokenVerifier } from './auth/authenticate.ts';
import type { Identity } from './auth/identity.ts';
import type { Subscriptions } from './billing/subscriptions.ts';
import type { BatchesService } from './batches/service.ts';
import type { JobsService } from './jobs/jobs-service.ts';
import type { TeamService } from './members/service.ts';
import type { JsonBodyReader } from './middleware/json-body.ts';

/** Per-request facts set by middleware. */
export interface ApiState {
  requestId: string;
  /** Set once the request is authenticated. */
  principal?: Principal;
}

/** Shared, long-lived collaborators of the API, created once per process by `createApiDeps`. */
export interface ApiDeps {
  runtime: Runtime;
  /** Bearer-token verifiers, asked in order. */
  verifiers: readonly TokenVerifier[];
  /** Keys, tokens, sessions, plan lookups and limits. */
  identity: Identity;
  /** Reads a route's JSON body, after authentication (limit: BODY_LIMIT_BYTES). */
  readBody: JsonBodyReader;
  /** Run on every authenticated request right after authentication (rate limits, quotas, usage). */
  guards?: readonly RequestGuard[];
  /** Uploaded maps and result artefacts, streamed (shared/blobs/). */
  blobs: BlobStore;
  /** Submits, cancels and waits for jobs (the job and lattice routes). */
  jobs: JobsService;
  /** Submits and cancels batches of jobs (the batch routes). */
  batches: BatchesService;
  /** The tenant's plan and its plan requests (the subscription, sign-up and operator routes). */
  subscriptions: Subscriptions;
  /** The queues the operators' board shows and the queue-depth metrics count. */
  queues: QueueCatalog;
  /** Members, roles and invitations. */
  team: TeamService;
  /** Address checks, address changes, and what an unverified user may not do. */
  verification: EmailVerification;
  /** Password reset and change. */
  passwords: PasswordService;
  /** Queues outgoing mail (sent by the scheduler role, never inside a request). */
  mail: MailOutbox;
  /** Releases what the collaborators hold: counted usage is written, queue objects and watchers closed. */
  close(): Promise<void>;
}

/** A check of an authenticated request; it throws (e.g. 429) to refuse it. */
export type RequestGuard = (ctx: ApiContext, principal: Principal) => Promise<void>;

export type ApiContext = Koa.ParameterizedContext<ApiState>;
export type ApiRouterContext = RouterContext<ApiState>;
export type ApiMiddleware = Koa.Middleware<ApiState>;
