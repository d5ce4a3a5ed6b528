/**
 * Email verification: a sign-up mails the owner a link that confirms the address; a signed-in
 * user may ask for a new one, and changes the address by confirming the new one (with the current
 * password) — sign-in moves to the new address only once its link is spent. What an unverified
 * user may not do is decided in one place, `assertVerified`.
 */
import type { Knex } from 'knex';
import { recordAudit } from '../../shared/audit.ts';
import { verifyPassword } from '../../shared/auth/passwords.ts';
import type { Principal } from '../../shared/auth/principal.ts';
import type { Config } from '../../shared/config.ts';
import { type Db, withTenant } from '../../shared/db.ts';
import { AppError, errorCode } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { MailOutbox } from '../../shared/mail/mail-queue.ts';
import { HOUR } from '../../shared/units.ts';
import { type AccountLockout, normaliseEmail } from '../auth/account-lockout.ts';
import type { RequestMeta } from '../auth/request-meta.ts';
import type { RateLimits } from '../middleware/rate-limit.ts';
import { claimAccountToken, insertAccountToken, newAccountToken, supersedeTokens, tenantOfToken } from './account-tokens.ts';

export interface EmailVerificationDeps {
  db: Db;
  mail: MailOutbox;
  rateLimits: RateLimits;
  lockout: AccountLockout;
  config: Config;
  logger: Logger;
  /** Runs in the confirmation's transaction: a sign-up's paid plan becomes a pending request. */
  onConfirmed?: (trx: Knex.Transaction, tenantId: string, userId: string, meta: RequestMeta) => Promise<unknown>;
}

/** Address-check mails one user may ask for an hour (sign-up's first one included). */
const MAILS_PER_USER_PER_HOUR = 5;
const UNIQUE_VIOLATION = '23505';

export class EmailVerification {
  constructor(private readonly deps: EmailVerificationDeps) {}

  /** Refuses (403 `email_unverified`) a signed-in user whose address is not confirmed yet. */
  async assertVerified(principal: Principal, what: string): Promise<void> {
    if (!principal.userId) return;
    const userId = principal.userId;
    const row = await withTenant(this.deps.db, principal.tenantId, (trx) =>
      trx('users').where({ tenant_id: principal.tenantId, id: userId }).first<{ email_verified_at: Date | null } | undefined>('email_verified_at'),
    );
    if (row && !row.email_verified_at) {
      throw new AppError('email_unverified', `Confirm your email address before you ${what}: follow the link we mailed you (POST /api/me/email/verify sends a new one)`);
    }
  }

  /** Mails a link that confirms `email` for the user (their address, or the one they change to). */
  async send(tenantId: string, userId: string, email: string, meta: RequestMeta, change = false): Promise<void> {
    const { db, config, mail, rateLimits } = this.deps;
    if (!(await rateLimits.within('verify:user', userId, { points: MAILS_PER_USER_PER_HOUR, durationS: HOUR / 1000 }))) {
      throw new AppError('rate_limited', `At most ${MAILS_PER_USER_PER_HOUR} address-check mails an hour; try again later`);
    }
    const { token, hash } = newAccountToken('email_verification');
    const firstName = await withTenant(db, tenantId, async (trx) => {
      const user = await trx('users').where({ tenant_id: tenantId, id: userId }).first<{ first_name: string } | undefined>('first_name');
      if (!user) throw new AppError('not_found', 'No such user');
      await supersedeTokens(trx, tenantId, userId, 'email_verification');
      await insertAccountToken(trx, { tenantId, userId, kind: 'email_verification', hash, email, ttlMs: config.EMAIL_VERIFICATION_TTL_MS });
      if (change) await recordAudit(trx, { tenantId, userId, action: 'auth.email_change_requested', ...meta, details: { email } });
      return user.first_name;
    });
    await mail.send('email-verification', email, { first_name: firstName, token, expires_hours: String(Math.round(config.EMAIL_VERIFICATION_TTL_MS / HOUR)) });
  }

  /** The sign-up's mail: a failure to queue it does not undo the sign-up (a new one can be asked for). */
  async sendAfterSignUp(tenantId: string, userId: string, email: string, meta: RequestMeta): Promise<void> {
    try {
      await this.send(tenantId, userId, email, meta);
    } catch (err) {
      this.deps.logger.warn({ err, userId }, 'sign-up: could not queue the address-check mail');
    }
  }

  /** `POST /api/me/email/verify`: a new link to the current address (none when it is confirmed). */
  async resend(principal: Principal, meta: RequestMeta): Promise<boolean> {
    const userId = signedIn(principal);
    const row = await withTenant(this.deps.db, principal.tenantId, (trx) =>
      trx('users').where({ tenant_id: principal.tenantId, id: userId }).first<{ email: string; email_verified_at: Date | null } | undefined>('email', 'email_verified_at'),
    );
    if (!row) throw new AppError('invalid_token', 'The user no longer exists');
    if (row.email_verified_at) return false;
    await this.send(principal.tenantId, userId, row.email, meta);
    return true;
  }

  /** `POST /api/me/email`: checks the current password, then mails a link to the new address. */
  async change(principal: Principal, newEmail: string, currentPassword: string, meta: RequestMeta): Promise<void> {
    const userId = signedIn(principal);
    const row = await withTenant(this.deps.db, principal.tenantId, (trx) =>
      trx('users').where({ tenant_id: principal.tenantId, id: userId }).first<{ email: string; password_hash: string } | undefined>('email', 'password_hash'),
    );
    if (!row) throw new AppError('invalid_token', 'The user no longer exists');
    await this.deps.lockout.assertAllowed(row.email);
    if (!(await verifyPassword(currentPassword, row.password_hash))) {
      await this.deps.lockout.recordFailure(row.email);
      throw new AppError('forbidden', 'The current password is wrong', { extra: { field: 'current_password' } });
    }
    await this.send(principal.tenantId, userId, normaliseEmail(newEmail), meta, true);
  }

  /** `POST /auth/verify-email`: spends the link; the address it was sent to becomes the user's, confirmed. */
  async confirm(token: string, meta: RequestMeta): Promise<void> {
    const { db } = this.deps;
    const tenantId = await tenantOfToken(db, 'email_verification', token);
    try {
      await withTenant(db, tenantId, async (trx) => {
        const claimed = await claimAccountToken(trx, tenantId, 'email_verification', token);
        const user = claimed.user_id
          ? await trx('users').where({ tenant_id: tenantId, id: claimed.user_id }).forUpdate().first<{ id: string; email: string } | undefined>('id', 'email')
          : undefined;
        if (!user) throw new AppError('link_invalid', 'The link is not valid, was already used or has expired: ask for a new one');
        const changed = normaliseEmail(user.email) !== normaliseEmail(claimed.email);
        await trx('users').where({ tenant_id: tenantId, id: user.id }).update({ email: claimed.email, email_verified_at: trx.fn.now(), updated_at: trx.fn.now() });
        await recordAudit(trx, {
          tenantId,
          userId: user.id,
          action: changed ? 'auth.email_changed' : 'auth.email_verified',
          ...meta,
          details: changed ? { from: user.email, to: claimed.email } : { email: claimed.email },
        });
        await this.deps.onConfirmed?.(trx, tenantId, user.id, meta);
      });
    } catch (err) {
      if (errorCode(err) === UNIQUE_VIOLATION && /users_email_unique/.test((err as Error).message)) {
        throw new AppError('conflict', 'Another account has this address now');
      }
      throw err;
    }
  }
}

function signedIn(principal: Principal): string {
  if (principal.kind !== 'user' || !principal.userId) throw new AppError('forbidden', 'This is for signed-in users, not API keys');
  return principal.userId;
}
