/**
 * Request and response types of the identity, billing and webhook routes, inferred from the
 * wire schemas (`shared/wire`) the server validates and documents them with. These are type-only
 * imports: the SDK carries none of the server's code.
 */
import type { z } from 'zod';
import type { PLAN_REQUEST, SUBSCRIPTION } from '../shared/wire/billing.ts';
import type { API_KEY, PLAN, TENANT, TOKEN_PAIR, USER } from '../shared/wire/identity.ts';
import type { REGISTERED } from '../shared/wire/registration.ts';
import type * as WebhookSchemas from '../shared/wire/webhooks.ts';
import type * as AccountSchemas from '../shared/wire/account.ts';
import type { Scope } from '../shared/auth/principal.ts';

export type { Scope } from '../shared/auth/principal.ts';
export type { PlanCode } from '../shared/plans.ts';
/** `POST /api/tenants/register`. */
export type { RegistrationInput } from '../shared/wire/registration.ts';

/** The token answer of login, refresh and registration. */
export type TokenPair = z.output<typeof TOKEN_PAIR>;
export type Tenant = z.output<typeof TENANT>;
export type User = z.output<typeof USER>;
export type ApiKey = z.output<typeof API_KEY>;
/** An API key as created: with its secret `key`, shown only once. */
export type CreatedApiKey = ApiKey & { key: string };
/** A plan and its limits (-1 = unlimited). */
export type Plan = z.output<typeof PLAN>;

/**
 * What registration answers: the tenant, its owner, and a signed-in session; `plan_request` when a
 * paid plan was asked for (the tenant starts on free and this request awaits approval).
 */
export type Registration = z.output<typeof REGISTERED>;

/** `GET /api/me`: who is calling. */
export interface Me {
  kind: 'user' | 'api_key';
  role: User['role'];
  scopes: Scope[];
  tenant: Tenant;
  user: User | null;
  api_key: { id: string; name: string; prefix: string; expires_at: string | null } | null;
  token_expires_at: string | null;
}

/** `POST /api/api-keys`. */
export interface CreateApiKeyInput {
  name: string;
  scopes: Scope[];
  /** ISO 8601, within 5 years; never expires when absent. */
  expires_at?: string | null;
}

/** `GET|POST /api/subscription`. */
/** A request to move to a paid plan, pending until an operator decides. */
export type PlanRequest = z.output<typeof PLAN_REQUEST>;
/** `GET /api/subscription`: the plan, its pending request and the latest requests. */
export type Subscription = z.output<typeof SUBSCRIPTION>;

export type WebhookEndpoint = z.output<typeof WebhookSchemas.EndpointSchema>;
/** A webhook endpoint as created: with its signing secret (`whsec_…`), shown only once. */
export type WebhookEndpointWithSecret = z.output<typeof WebhookSchemas.EndpointWithSecretSchema>;
export type CreateWebhookInput = z.input<typeof WebhookSchemas.CreateEndpointBody>;
export type UpdateWebhookInput = z.input<typeof WebhookSchemas.UpdateEndpointBody>;
export type RotateWebhookSecretInput = z.input<typeof WebhookSchemas.RotateSecretBody>;
export type RotatedWebhookSecret = z.output<typeof WebhookSchemas.RotatedSecretSchema>;
export type WebhookDelivery = z.output<typeof WebhookSchemas.DeliverySchema>;
export type WebhookDeliveryWithPayload = z.output<typeof WebhookSchemas.DeliveryWithPayloadSchema>;
/** Filters and paging of an endpoint's deliveries. */
export interface WebhookDeliveryQuery {
  status?: WebhookDelivery['status'];
  /** 1..100, default 20. */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}
export type WebhookDeliveryPage = z.output<typeof WebhookSchemas.DeliveryListSchema>;

/** Counter values by metric: `api_calls`, `jobs.<type>`, `compute_cells`. */
export type UsageMetrics = Record<string, number>;

/** A monthly quota: `limit` -1 and `remaining` null mean unlimited. */
export interface UsageQuota {
  used: number;
  limit: number;
  remaining: number | null;
}

/** `GET /api/usage?from=&to=`. */
export interface Usage {
  from: string;
  to: string;
  days: Array<{ day: string; metrics: UsageMetrics }>;
  totals: UsageMetrics;
  month: { start: string; totals: UsageMetrics; quotas: { api_calls: UsageQuota; jobs: UsageQuota; compute_units: UsageQuota } };
}

/** Days (UTC, `YYYY-MM-DD`) of a usage query; default this month to today. */
export interface UsageQuery {
  from?: string;
  to?: string;
}

/** A team member (`GET /api/members`). */
export type Member = z.output<typeof AccountSchemas.MEMBER>;
/** A pending invitation. */
export type Invitation = z.output<typeof AccountSchemas.INVITATION>;
/** `POST /auth/invitations/accept`. */
export type InvitationAcceptInput = z.input<typeof AccountSchemas.INVITATION_ACCEPT>;
/** One audit log entry, and a page of them. */
export type AuditEntry = z.output<typeof AccountSchemas.AUDIT_ENTRY>;
export type AuditPage = z.output<typeof AccountSchemas.AUDIT_PAGE>;
/** Filters of `GET /api/audit`. */
export interface AuditQuery {
  /** Comma-separated actions; `member.*` for a family. */
  action?: string;
  /** Only entries made by this user id. */
  actor?: string;
  limit?: number;
  cursor?: string;
}
export type Role = 'owner' | 'admin' | 'member' | 'viewer';
/** Which notifications a user is mailed (`GET|PATCH /api/me/notifications`). */
export type { NotificationPreferences, NotificationPreferencesChange } from '../shared/wire/notifications.ts';
