/**
 * The audit log: who did what to a tenant's identity and billing, from where. Rows are written in
 * the transaction of the change they describe when there is one, so a rolled-back change leaves
 * no audit row, and a committed one always has its row.
 */
import type { Knex } from 'knex';

/** Audited actions. */
export const AUDIT_ACTIONS = [
  'tenant.registered',
  'auth.signed_in',
  'auth.sign_in_failed',
  'auth.signed_out',
  'auth.refresh_reused',
  'auth.password_reset_requested',
  'auth.password_reset',
  'auth.password_changed',
  'auth.email_verified',
  'auth.email_change_requested',
  'auth.email_changed',
  'member.invited',
  'member.invitation_revoked',
  'member.joined',
  'member.role_changed',
  'member.removed',
  'api_key.created',
  'api_key.revoked',
  'subscription.changed',
  'plan_request.created',
  'plan_request.deferred',
  'plan_request.approved',
  'plan_request.rejected',
  'plan_request.cancelled',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  /** Null only for events with no known tenant (a failed sign-in for an unknown email). */
  tenantId: string | null;
  action: AuditAction;
  userId?: string | null;
  apiKeyId?: string | null;
  ip?: string;
  userAgent?: string;
  /** Facts about the event. Never secrets (passwords, tokens, keys). */
  details?: Record<string, unknown>;
}

const MAX_USER_AGENT = 512;

/**
 * Writes one audit row. Pass the transaction of the change being audited; an entry without a
 * tenant must be written on the owner connection (row-level security refuses it otherwise).
 */
export async function recordAudit(db: Knex | Knex.Transaction, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert({
    tenant_id: entry.tenantId,
    user_id: entry.userId ?? null,
    api_key_id: entry.apiKeyId ?? null,
    action: entry.action,
    ip: entry.ip ?? null,
    user_agent: entry.userAgent ? entry.userAgent.slice(0, MAX_USER_AGENT) : null,
    details: JSON.stringify(entry.details ?? {}),
  });
}
