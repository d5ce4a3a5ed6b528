/**
 * `CatalyticClient`: one object per API and set of credentials, with a property per resource.
 *
 * ```ts
 * const client = await CatalyticClient.fromEnvironment();   // CATALYTIC_URL, CATALYTIC_API_KEY, or `catalytic login`
 * const job = await client.jobs.submit({ type: 'components', lattice: { shape: [512, 512], obstacles: { density: 0.4, seed: 7 } }, params: {} });
 * const done = await client.jobs.wait(job.id, { signal: AbortSignal.timeout(60_000) });
 * ```
 */
import type { Me, Plan, Usage, UsageQuery } from './api-types.ts';
import { resolveConnection, tokensToStored, writeCredentials } from './credentials-store.ts';
import { HttpClient, type HttpClientOptions } from './http.ts';
import { ApiKeysResource, getMe, listPlans, SubscriptionResource } from './resources/account.ts';
import { AuthResource } from './resources/auth.ts';
import { BatchesResource } from './resources/batches.ts';
import { JobsResource } from './resources/jobs.ts';
import { LatticesResource } from './resources/lattices.ts';
import { NotificationsResource } from './resources/notifications.ts';
import { AuditResource, EmailResource, InvitationsResource, MembersResource, PasswordResource } from './resources/team.ts';
import { WebhooksResource } from './resources/webhooks.ts';

/** Options of {@link CatalyticClient}; see {@link HttpClientOptions}. */
export type CatalyticClientOptions = HttpClientOptions;

export class CatalyticClient {
  /** The transport, for requests the resources do not cover. */
  readonly http: HttpClient;
  readonly auth: AuthResource;
  readonly apiKeys: ApiKeysResource;
  readonly subscription: SubscriptionResource;
  readonly lattices: LatticesResource;
  readonly jobs: JobsResource;
  readonly batches: BatchesResource;
  readonly webhooks: WebhooksResource;
  readonly members: MembersResource;
  readonly invitations: InvitationsResource;
  readonly password: PasswordResource;
  readonly email: EmailResource;
  readonly audit: AuditResource;
  readonly notifications: NotificationsResource;

  constructor(options: CatalyticClientOptions) {
    this.http = new HttpClient(options);
    this.auth = new AuthResource(this.http);
    this.apiKeys = new ApiKeysResource(this.http);
    this.subscription = new SubscriptionResource(this.http);
    this.lattices = new LatticesResource(this.http);
    this.jobs = new JobsResource(this.http);
    this.batches = new BatchesResource(this.http);
    this.webhooks = new WebhooksResource(this.http);
    this.members = new MembersResource(this.http);
    this.invitations = new InvitationsResource(this.http);
    this.password = new PasswordResource(this.http);
    this.email = new EmailResource(this.http);
    this.audit = new AuditResource(this.http);
    this.notifications = new NotificationsResource(this.http);
  }

  /**
   * A client configured like the `catalytic` CLI: `CATALYTIC_URL` and `CATALYTIC_API_KEY`, else
   * the credentials file of `catalytic login` (whose refreshed tokens it saves back).
   */
  static async fromEnvironment(
    options: Omit<CatalyticClientOptions, 'baseUrl' | 'apiKey' | 'tokens'> & { baseUrl?: string; apiKey?: string } = {},
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<CatalyticClient> {
    const connection = await resolveConnection({ url: options.baseUrl, apiKey: options.apiKey }, env);
    return new CatalyticClient({
      ...options,
      baseUrl: connection.url,
      apiKey: connection.apiKey,
      tokens: connection.tokens,
      onTokens:
        options.onTokens ??
        (connection.source === 'file'
          ? (tokens) => writeCredentials(connection.path, { ...connection.stored, url: connection.url, ...tokensToStored(tokens) })
          : undefined),
    });
  }

  /** Who is calling: user or API key, role, scopes and tenant. */
  me(options: { signal?: AbortSignal } = {}): Promise<Me> {
    return getMe(this.http, options.signal);
  }

  /** The plans and their limits (public). */
  plans(): Promise<Plan[]> {
    return listPlans(this.http);
  }

  /** The tenant's usage per day between two days, and this month's quotas. */
  async usage(query: UsageQuery = {}): Promise<Usage> {
    return (await this.http.request<Usage>('GET', '/api/usage', { query: { ...query } })).body;
  }
}
