/**
 * Sign-in with email and password. Unknown emails and wrong passwords get the same answer in
 * about the same time (a dummy hash is checked), and both are audited. A hash made with older
 * scrypt parameters is upgraded on a successful sign-in.
 */
import { recordAudit } from '../../shared/audit.ts';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from '../../shared/auth/passwords.ts';
import type { Role } from '../../shared/auth/principal.ts';
import { type Db, withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { normaliseEmail } from './account-lockout.ts';
import type { RequestMeta } from './request-meta.ts';
import type { Sessions, TokenPair } from './sessions.ts';

interface LoginRow {
  id: string;
  tenant_id: string;
  role: Role;
  password_hash: string;
  tenant_status: string;
}

const WRONG = 'The email or password is wrong';

export async function signIn(
  db: Db,
  sessions: Sessions,
  credentials: { email: string; password: string },
  meta: RequestMeta,
): Promise<TokenPair> {
  const email = normaliseEmail(credentials.email);
  // The tenant is what sign-in finds out: the one cross-tenant read, through its definer function.
  const { rows } = await db.raw<{ rows: LoginRow[] }>(
    'select id, tenant_id, role, password_hash, tenant_status from catalytic_sign_in_user(?)',
    [email],
  );
  const user = rows[0];

  if (!user) {
    await verifyAgainstDummy(credentials.password);
    // An unknown email belongs to no tenant: its audit row is written by a definer function too.
    await db.raw('select catalytic_record_unknown_sign_in(?, ?, ?)', [email, meta.ip ?? null, meta.userAgent?.slice(0, 512) ?? null]);
    throw new AppError('invalid_credentials', WRONG);
  }
  const auditFailure = (reason: string) =>
    withTenant(db, user.tenant_id, (trx) =>
      recordAudit(trx, { tenantId: user.tenant_id, userId: user.id, action: 'auth.sign_in_failed', ...meta, details: { email, reason } }),
    );
  if (!(await verifyPassword(credentials.password, user.password_hash))) {
    await auditFailure('wrong_password');
    throw new AppError('invalid_credentials', WRONG);
  }
  if (user.tenant_status !== 'active') {
    await auditFailure('tenant_suspended');
    throw new AppError('forbidden', 'The tenant is suspended');
  }

  const upgraded = needsRehash(user.password_hash) ? await hashPassword(credentials.password) : undefined;
  return withTenant(db, user.tenant_id, async (trx) => {
    await trx('users')
      .where({ id: user.id, tenant_id: user.tenant_id })
      .update({ last_login_at: trx.fn.now(), ...(upgraded ? { password_hash: upgraded } : {}) });
    await recordAudit(trx, { tenantId: user.tenant_id, userId: user.id, action: 'auth.signed_in', ...meta });
    return sessions.issue(trx, user);
  });
}
