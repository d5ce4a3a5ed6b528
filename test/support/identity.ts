/**
 * Real sign-up and sign-in through the HTTP API, for tests that need a tenant made the way a
 * customer makes one. Files that register more than a few tenants from 127.0.0.1 should start
 * their environment with `useTestEnvironment(IDENTITY_TEST_ENV)` so the per-IP limits on
 * sign-up and sign-in do not throttle them.
 */
import { randomBytes } from 'node:crypto';
import { withTenant } from '../../shared/db.ts';
import type { TestApi } from './api.ts';

/** Per-IP limits high enough for a test file that signs up and in many times. */
export const IDENTITY_TEST_ENV: Readonly<Record<string, string>> = {
  RATE_LIMIT_REGISTER_PER_HOUR: '100000',
  RATE_LIMIT_LOGIN_PER_5MIN: '100000',
};

/** A password the strength check accepts. */
export const STRONG_PASSWORD = 'Lattice-Walk-7-Quokka!';

export interface RegisteredTenant {
  tenantId: string;
  userId: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  /** `Authorization` header for the owner's access token. */
  headers: { authorization: string };
}

export interface RegisterOptions {
  /**
   * The plan asked for at sign-up (default professional). A paid one becomes a pending request
   * once the address is confirmed, which the helper then approves as an operator would (unless
   * `approve: false`).
   */
  plan?: string;
  /** @defaultValue true */
  approve?: boolean;
  /**
   * Confirm the owner's address, as following the mailed link does (in the database, without a
   * mail server). @defaultValue true for a paid plan, false for free
   */
  verify?: boolean;
  email?: string;
  password?: string;
  companyName?: string;
}

/** Signs up a tenant over HTTP (201 expected) and returns its owner's credentials. */
export async function registerTenant(api: TestApi, options: RegisterOptions = {}): Promise<RegisteredTenant> {
  const tag = randomBytes(4).toString('hex');
  const email = options.email ?? `owner-${tag}@example.test`;
  const password = options.password ?? STRONG_PASSWORD;
  const res = await api.request('/api/tenants/register', {
    body: {
      company_name: options.companyName ?? `Company ${tag}`,
      email,
      password,
      first_name: 'Ada',
      last_name: 'Owner',
      plan_code: options.plan ?? 'professional',
    },
  });
  if (res.status !== 201) throw new Error(`sign-up answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as {
    tenant: { id: string; plan_code: string };
    user: { id: string };
    tokens: { access_token: string; refresh_token: string };
    plan_request: { id: string; to_plan: string } | null;
  };
  const plan = options.plan ?? 'professional';
  if (options.verify ?? plan !== 'free') {
    const request = await confirmAddress(api, body.tenant.id, body.user.id);
    if (request && options.approve !== false) await approvePlanRequest(api, request.id);
  }
  return {
    tenantId: body.tenant.id,
    userId: body.user.id,
    email,
    password,
    accessToken: body.tokens.access_token,
    refreshToken: body.tokens.refresh_token,
    headers: { authorization: `Bearer ${body.tokens.access_token}` },
  };
}

/** Signs in over HTTP and returns the token pair (throws unless 200). */
export async function login(api: TestApi, email: string, password: string): Promise<{ access_token: string; refresh_token: string }> {
  const res = await api.request('/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { access_token: string; refresh_token: string };
}

/** Creates an API key over HTTP with a user's access token; returns the secret and id. */
export async function createApiKey(
  api: TestApi,
  accessToken: string,
  body: { name?: string; scopes: string[]; expires_at?: string },
): Promise<{ id: string; key: string; headers: { authorization: string } }> {
  const res = await api.request('/api/api-keys', {
    body: { name: body.name ?? 'test key', ...body },
    headers: { authorization: `Bearer ${accessToken}` },
  });
  if (res.status !== 201) throw new Error(`key creation answered ${res.status}: ${await res.text()}`);
  const created = (await res.json()) as { id: string; key: string };
  return { ...created, headers: { authorization: `Bearer ${created.key}` } };
}

/**
 * Marks a user's address confirmed and opens the plan request their sign-up asked for, in one
 * transaction, as `POST /auth/verify-email` does after its token checks.
 */
export async function confirmAddress(api: TestApi, tenantId: string, userId: string): Promise<{ id: string } | undefined> {
  return withTenant(api.deps.runtime.db, tenantId, async (trx) => {
    await trx('users').where({ tenant_id: tenantId, id: userId }).update({ email_verified_at: trx.fn.now() });
    return api.deps.subscriptions.openSignUpRequest(trx, tenantId, userId, {});
  });
}

/**
 * Approves a pending plan request through the service behind `POST /admin/api/plan-requests/:id/approve`
 * (the operator path: the plan changes and the tenant's cached credentials are dropped).
 */
export async function approvePlanRequest(api: TestApi, requestId: string): Promise<void> {
  await api.deps.subscriptions.decide(requestId, 'approved', { name: 'test-operator', meta: {} });
}
