/**
 * Sign-up: a tenant, its owner user, the audit row and the first session, in one transaction —
 * a failure anywhere writes nothing. The transaction runs as the application role bound to the
 * new tenant's id, so row-level security checks every row it writes.
 */
import { randomUUID } from 'node:crypto';
import { recordAudit } from '../../shared/audit.ts';
import { hashPassword } from '../../shared/auth/passwords.ts';
import type { Role } from '../../shared/auth/principal.ts';
import { type Db, withTenant } from '../../shared/db.ts';
import { AppError, errorCode } from '../../shared/errors.ts';
import type { PlanCode } from '../../shared/plans.ts';
import type { RequestMeta } from './request-meta.ts';
import type { Sessions, TokenPair } from './sessions.ts';

export interface RegistrationInput {
  company_name: string;
  email: string;
  password: string;
  first_name: string;
  last_name: string;
  plan_code: PlanCode;
}

export interface TenantView {
  id: string;
  name: string;
  plan_code: string;
  status: string;
  created_at: Date;
}

export interface UserView {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  created_at: Date;
}

export interface Registration {
  tenant: TenantView;
  user: UserView;
  tokens: TokenPair;
}

const UNIQUE_VIOLATION = '23505';

export async function registerTenant(db: Db, sessions: Sessions, input: RegistrationInput, meta: RequestMeta): Promise<Registration> {
  // Hash before the transaction: it takes tens of milliseconds and needs no lock.
  const passwordHash = await hashPassword(input.password);
  const tenantId = randomUUID();
  try {
    return await withTenant(db, tenantId, async (trx) => {
      const [tenant] = await trx('tenants')
        .insert({ id: tenantId, name: input.company_name, plan_code: input.plan_code })
        .returning<TenantView[]>(['id', 'name', 'plan_code', 'status', 'created_at']);
      const [user] = await trx('users')
        .insert({
          tenant_id: tenantId,
          email: input.email,
          first_name: input.first_name,
          last_name: input.last_name,
          password_hash: passwordHash,
          role: 'owner',
        })
        .returning<UserView[]>(['id', 'email', 'first_name', 'last_name', 'role', 'created_at']);
      if (!tenant || !user) throw new Error('sign-up inserted no row');
      await recordAudit(trx, {
        tenantId,
        userId: user.id,
        action: 'tenant.registered',
        ...meta,
        details: { plan_code: input.plan_code },
      });
      const tokens = await sessions.issue(trx, { id: user.id, tenant_id: tenantId, role: 'owner' });
      return { tenant, user, tokens };
    });
  } catch (err) {
    if (errorCode(err) === UNIQUE_VIOLATION && /users_email_unique/.test((err as Error).message)) {
      throw new AppError('conflict', 'An account with this email already exists', { extra: { field: 'email' } });
    }
    throw err;
  }
}
