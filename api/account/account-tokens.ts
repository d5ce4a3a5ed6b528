/**
 * One-time account links (password reset, invitation, address check): a token of 256 random bits
 * with a prefix naming its kind, stored only as its SHA-256 (long and random, so a fast hash is
 * enough, and a database leak leaks no usable link). A token is claimed once, before it expires.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';

export type AccountTokenKind = 'password_reset' | 'invitation' | 'email_verification';

const PREFIXES: Record<AccountTokenKind, string> = { password_reset: 'cpr_', invitation: 'cin_', email_verification: 'cev_' };
const TOKEN_PATTERN = /^c(pr|in|ev)_[A-Za-z0-9_-]{43}$/;

export interface AccountTokenRow {
  id: string;
  tenant_id: string;
  user_id: string | null;
  kind: AccountTokenKind;
  email: string;
  details: Record<string, unknown>;
  expires_at: Date;
  used_at: Date | null;
  created_at: Date;
}

export function hashAccountToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newAccountToken(kind: AccountTokenKind): { token: string; hash: string } {
  const token = `${PREFIXES[kind]}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashAccountToken(token) };
}

/** Stores a token's hash (in the caller's tenant transaction). */
export async function insertAccountToken(
  trx: Knex.Transaction,
  row: { tenantId: string; userId: string | null; kind: AccountTokenKind; hash: string; email: string; ttlMs: number; details?: Record<string, unknown> },
): Promise<AccountTokenRow> {
  const [inserted] = await trx('account_tokens')
    .insert({
      tenant_id: row.tenantId,
      user_id: row.userId,
      kind: row.kind,
      token_hash: row.hash,
      email: row.email,
      details: JSON.stringify(row.details ?? {}),
      expires_at: new Date(Date.now() + row.ttlMs),
    })
    .returning<AccountTokenRow[]>('*');
  if (!inserted) throw new Error('account token not inserted');
  return inserted;
}

/** Marks a user's unspent tokens of one kind as spent: a new link replaces the earlier ones. */
export async function supersedeTokens(trx: Knex.Transaction, tenantId: string, userId: string, kind: AccountTokenKind): Promise<void> {
  await trx('account_tokens').where({ tenant_id: tenantId, user_id: userId, kind }).whereNull('used_at').update({ used_at: trx.fn.now() });
}

const invalidLink = (): AppError => new AppError('link_invalid', 'The link is not valid, was already used or has expired: ask for a new one');

/** The tenant a token belongs to (the one read across tenants, through its definer function). */
export async function tenantOfToken(db: Db, kind: AccountTokenKind, token: string): Promise<string> {
  if (!TOKEN_PATTERN.test(token) || !token.startsWith(PREFIXES[kind])) throw invalidLink();
  const { rows } = await db.raw<{ rows: Array<{ tenant_id: string | null }> }>('select catalytic_account_token_tenant(?) as tenant_id', [
    hashAccountToken(token),
  ]);
  const tenantId = rows[0]?.tenant_id;
  if (!tenantId) throw invalidLink();
  return tenantId;
}

/**
 * Spends a token in the caller's tenant transaction: locks its row, refuses it when spent or
 * expired (one answer for every case), and marks it spent — so of two requests racing with one
 * link, exactly one gets past this point.
 */
export async function claimAccountToken(trx: Knex.Transaction, tenantId: string, kind: AccountTokenKind, token: string): Promise<AccountTokenRow> {
  const row = await trx('account_tokens')
    .where({ tenant_id: tenantId, kind, token_hash: hashAccountToken(token) })
    .forUpdate()
    .first<AccountTokenRow | undefined>();
  if (!row || row.used_at || row.expires_at.getTime() <= Date.now()) throw invalidLink();
  await trx('account_tokens').where({ id: row.id, tenant_id: tenantId }).update({ used_at: trx.fn.now() });
  return row;
}
