/**
 * Sign-up: a tenant, its owner user, the audit row, the paid plan the sign-up asked for (kept until
 * the owner confirms the address; the tenant starts on free, see api/billing/subscriptions.ts) and the
 * first session, in one transaction — a failure anywhere writes nothing. The transaction runs as the application role bound to the
 * new tenant's id, so row-level security checks every row it writes.
 */
import { recordAudit } from '../../shared/audit.ts';
import { hashPassword } from '../../shared/auth/passwords.ts';
import type { Role } from '../../shared/auth/principal.ts';
import { type Db, withTenant } from '../../shared/db.ts';
import { AppError, errorCode } from '../../shared/errors.ts';
import type { RegistrationInput } from '../../shared/wire/registration.ts';
import type { SignUpPlan, Subscriptions } from '../billing/subscriptions.ts';
import type { RequestMeta } from './request-meta.ts';
import type { Sessions, TokenPair } from './sessions.ts';

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
  /** The paid plan the sign-up asked for: requested once the owner confirms the address. */
  requestedPlan: string | null;
}

/** The new tenant's id and plan, decided before the transaction (the billing provider may call out). */
export interface NewTenantPlan {
  tenantId: string;
  plan: SignUpPlan;
  subscriptions: Subscriptions;
}

const UNIQUE_VIOLATION = '23505';

export async function registerTenant(
  db: Db,
  sessions: Sessions,
  input: RegistrationInput,
  meta: RequestMeta,
  newTenant: NewTenantPlan,
): Promise<Registration> {
  // Hash before the transaction: it takes tens of milliseconds and needs no lock.
  const passwordHash = await hashPassword(input.password);
  const { tenantId, plan } = newTenant;
  try {
    return await withTenant(db, tenantId, async (trx) => {
      const [tenant] = await trx('tenants')
        .insert({ id: tenantId, name: input.company_name, plan_code: plan.start })
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
        details: { plan_code: plan.start, ...(plan.requested ? { requested_plan: plan.requested } : {}) },
      });
      await newTenant.subscriptions.recordSignUpRequest(trx, tenantId, user.id, plan, meta);
      const tokens = await sessions.issue(trx, { id: user.id, tenant_id: tenantId, role: 'owner' });
      return { tenant, user, tokens, requestedPlan: plan.requested ?? null };
    });
  } catch (err) {
    if (errorCode(err) === UNIQUE_VIOLATION && /users_email_unique/.test((err as Error).message)) {
      throw new AppError('conflict', 'An account with this email already exists', { extra: { field: 'email' } });
    }
    throw err;
  }
}
