/**
 * Password reset and change. A reset request answers the same, after the same time
 * (PASSWORD_RESET_ANSWER_MS), whether or not the address has an account: the lookup, the token
 * and the mail happen behind the answer. Requests are limited per client IP and per address
 * (429, the same for any address) and per account (silently: no mail beyond it). A reset link
 * works once, for PASSWORD_RESET_TTL_MS; spending it sets the password and ends every session of
 * the user. A signed-in user changes the password with the current one; every other session ends.
 */
import type { Knex } from 'knex';
import { recordAudit } from '../../shared/audit.ts';
import { hashPassword, passwordWeakness, verifyPassword } from '../../shared/auth/passwords.ts';
import type { Principal, Role } from '../../shared/auth/principal.ts';
import type { Config } from '../../shared/config.ts';
import { type Db, withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { MailOutbox } from '../../shared/mail/mail-queue.ts';
import { HOUR, MINUTE } from '../../shared/units.ts';
import { type AccountLockout, normaliseEmail } from '../auth/account-lockout.ts';
import type { RequestMeta } from '../auth/request-meta.ts';
import type { Sessions, TokenPair } from '../auth/sessions.ts';
import type { RateLimits } from '../middleware/rate-limit.ts';
import { claimAccountToken, insertAccountToken, newAccountToken, supersedeTokens, tenantOfToken } from './account-tokens.ts';

export interface PasswordServiceDeps {
  db: Db;
  sessions: Sessions;
  mail: MailOutbox;
  rateLimits: RateLimits;
  lockout: AccountLockout;
  config: Config;
  logger: Logger;
}

interface UserRow {
  id: string;
  tenant_id: string;
  role: Role;
  email: string;
  first_name: string;
  last_name: string;
  password_hash: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function weakPassword(password: string, user: Pick<UserRow, 'email' | 'first_name' | 'last_name'>, field: string): void {
  const weakness = passwordWeakness(password, [user.email, user.first_name, user.last_name]);
  if (weakness) throw new AppError('validation_failed', `body.${field}: ${weakness}`, { extra: { errors: [{ path: `body.${field}`, message: weakness }] } });
}

async function userRow(trx: Knex.Transaction, tenantId: string, userId: string): Promise<UserRow | undefined> {
  return trx('users')
    .where({ id: userId, tenant_id: tenantId })
    .first<UserRow | undefined>('id', 'tenant_id', 'role', 'email', 'first_name', 'last_name', 'password_hash');
}

export class PasswordService {
  /** Resets in flight behind their answers, awaited when the API closes. */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: PasswordServiceDeps) {}

  /** `POST /auth/password-reset`: limits, then the same answer after the same time for any address. */
  async requestReset(email: string, meta: RequestMeta): Promise<void> {
    const { rateLimits, config } = this.deps;
    const started = performance.now();
    const address = normaliseEmail(email);
    await rateLimits.hit('reset:ip', meta.ip ?? 'unknown', { points: config.PASSWORD_RESET_PER_IP_PER_HOUR, durationS: HOUR / 1000 }, 'password_resets_per_ip', 'Too many password reset requests from this address');
    await rateLimits.hit('reset:address', address, { points: config.PASSWORD_RESET_PER_ADDRESS_PER_HOUR, durationS: HOUR / 1000 }, 'password_resets_per_address', 'Too many password reset requests for this email address');
    const work = this.issueReset(address, meta).catch((err: unknown) => this.deps.logger.error({ err }, 'password reset: could not issue a link'));
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
    await sleep(Math.max(0, config.PASSWORD_RESET_ANSWER_MS - (performance.now() - started)));
  }

  private async issueReset(address: string, meta: RequestMeta): Promise<void> {
    const { db, rateLimits, config, mail } = this.deps;
    const { rows } = await db.raw<{ rows: Array<{ id: string; tenant_id: string; tenant_status: string }> }>(
      'select id, tenant_id, tenant_status from catalytic_sign_in_user(?)',
      [address],
    );
    const found = rows[0];
    if (!found || found.tenant_status !== 'active') return;
    if (!(await rateLimits.within('reset:account', found.id, { points: config.PASSWORD_RESET_PER_ACCOUNT_PER_DAY, durationS: (24 * HOUR) / 1000 }))) {
      this.deps.logger.info({ userId: found.id }, 'password reset: the account reached its daily limit; no mail');
      return;
    }
    const { token, hash } = newAccountToken('password_reset');
    const user = await withTenant(db, found.tenant_id, async (trx) => {
      const row = await userRow(trx, found.tenant_id, found.id);
      if (!row) return undefined;
      await supersedeTokens(trx, row.tenant_id, row.id, 'password_reset');
      await insertAccountToken(trx, { tenantId: row.tenant_id, userId: row.id, kind: 'password_reset', hash, email: row.email, ttlMs: config.PASSWORD_RESET_TTL_MS });
      await recordAudit(trx, { tenantId: row.tenant_id, userId: row.id, action: 'auth.password_reset_requested', ...meta });
      return row;
    });
    if (!user) return;
    await mail.send('password-reset', user.email, {
      first_name: user.first_name,
      token,
      expires_minutes: String(Math.round(config.PASSWORD_RESET_TTL_MS / MINUTE)),
    });
  }

  /** `POST /auth/password-reset/confirm`: spends the link, sets the password, ends every session. */
  async confirmReset(token: string, password: string, meta: RequestMeta): Promise<void> {
    const { db, sessions } = this.deps;
    const tenantId = await tenantOfToken(db, 'password_reset', token);
    const passwordHash = await hashPassword(password);
    const { user, revoke } = await withTenant(db, tenantId, async (trx) => {
      const claimed = await claimAccountToken(trx, tenantId, 'password_reset', token);
      const row = claimed.user_id ? await userRow(trx, tenantId, claimed.user_id) : undefined;
      if (!row) throw new AppError('link_invalid', 'The link is not valid, was already used or has expired: ask for a new one');
      weakPassword(password, row, 'password');
      await trx('users').where({ id: row.id, tenant_id: tenantId }).update({ password_hash: passwordHash, updated_at: trx.fn.now() });
      const end = await sessions.endAllOf(trx, tenantId, row.id);
      await recordAudit(trx, { tenantId, userId: row.id, action: 'auth.password_reset', ...meta });
      return { user: row, revoke: end };
    });
    await revoke();
    // A reset also lifts a sign-in lockout: the owner of the mailbox has proven who they are.
    await this.deps.lockout.recordSuccess(user.email);
    await this.deps.mail.send('password-changed', user.email, { first_name: user.first_name });
  }

  /** `POST /api/me/password`: the current password, then the new one; other sessions end. */
  async change(principal: Principal, current: string, next: string, meta: RequestMeta): Promise<TokenPair> {
    const { db, sessions, lockout } = this.deps;
    if (principal.kind !== 'user' || !principal.userId) throw new AppError('forbidden', 'A password is changed by its signed-in user, not with an API key');
    const userId = principal.userId;
    const before = await withTenant(db, principal.tenantId, (trx) => userRow(trx, principal.tenantId, userId));
    if (!before) throw new AppError('invalid_token', 'The user no longer exists');
    await lockout.assertAllowed(before.email);
    if (!(await verifyPassword(current, before.password_hash))) {
      await lockout.recordFailure(before.email);
      throw new AppError('forbidden', 'The current password is wrong', { extra: { field: 'current_password' } });
    }
    weakPassword(next, before, 'new_password');
    const passwordHash = await hashPassword(next);
    const { pair, revoke } = await withTenant(db, principal.tenantId, async (trx) => {
      await trx('users').where({ id: userId, tenant_id: principal.tenantId }).update({ password_hash: passwordHash, updated_at: trx.fn.now() });
      const end = await sessions.endAllOf(trx, principal.tenantId, userId);
      await recordAudit(trx, { tenantId: principal.tenantId, userId, action: 'auth.password_changed', ...meta });
      return { pair: await sessions.issue(trx, { id: userId, tenant_id: principal.tenantId, role: before.role }), revoke: end };
    });
    await revoke();
    await this.deps.mail.send('password-changed', before.email, { first_name: before.first_name });
    return pair;
  }

  /** Resolves once every reset still running behind its answer is done (its mail queued). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
