/** The rows `GET /api/me` shows of its caller, read inside the caller's `withTenant` transaction. */
import type { Knex } from 'knex';
import type { Principal } from '../../shared/auth/principal.ts';

/** The caller's tenant, and its user and API key when it has them. */
export async function readCaller(trx: Knex.Transaction, principal: Principal) {
  return {
    tenant: await trx('tenants').where('id', principal.tenantId).first('id', 'name', 'plan_code', 'status', 'created_at'),
    user: principal.userId
      ? await trx('users')
          .where({ id: principal.userId, tenant_id: principal.tenantId })
          .first('id', 'email', 'first_name', 'last_name', 'role', 'created_at')
      : undefined,
    apiKey: principal.apiKeyId
      ? await trx('api_keys')
          .where({ id: principal.apiKeyId, tenant_id: principal.tenantId })
          .first('id', 'name', 'prefix', 'expires_at')
      : undefined,
  };
}
