/** The caller, its API keys, the plans and the tenant's subscription. */
import type { ApiKey, CreateApiKeyInput, CreatedApiKey, Me, Plan, PlanCode, PlanRequest, Subscription } from '../api-types.ts';
import type { HttpClient } from '../http.ts';

export class ApiKeysResource {
  constructor(private readonly http: HttpClient) {}

  /** Creates an API key; the answer's `key` is the secret, shown only this once. Needs a signed-in user. */
  async create(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    return (await this.http.request<CreatedApiKey>('POST', '/api/api-keys', { body: input })).body;
  }

  /** The keys the caller may see (all of the tenant's for owners and admins), newest first. */
  async list(): Promise<ApiKey[]> {
    return (await this.http.request<{ data: ApiKey[] }>('GET', '/api/api-keys')).body.data;
  }

  /** Revokes a key at once (revoking a revoked key is fine). */
  async revoke(id: string): Promise<void> {
    await this.http.request('DELETE', `/api/api-keys/${encodeURIComponent(id)}`);
  }
}

export class SubscriptionResource {
  constructor(private readonly http: HttpClient) {}

  /** The tenant's current plan and its pending plan request. */
  async get(): Promise<Subscription> {
    return (await this.http.request<Subscription>('GET', '/api/subscription')).body;
  }

  /**
   * Asks to move the tenant to another plan (owner only). A free plan or a downgrade applies at
   * once; an upgrade to a paid plan leaves the plan as it is and returns the pending request in
   * `pending_request` (an operator approves it).
   */
  async change(planCode: PlanCode): Promise<Subscription> {
    return (await this.http.request<Subscription>('POST', '/api/subscription', { body: { plan_code: planCode } })).body;
  }

  /** Withdraws the pending plan request (owner only); returns it, now cancelled. */
  async cancelRequest(): Promise<PlanRequest> {
    return (await this.http.request<PlanRequest>('DELETE', '/api/subscription/request')).body;
  }
}

/** `GET /api/me`. */
export async function getMe(http: HttpClient, signal?: AbortSignal): Promise<Me> {
  return (await http.request<Me>('GET', '/api/me', { signal })).body;
}

/** `GET /api/plans` (public). */
export async function listPlans(http: HttpClient): Promise<Plan[]> {
  return (await http.request<{ data: Plan[] }>('GET', '/api/plans', { auth: false })).body.data;
}
