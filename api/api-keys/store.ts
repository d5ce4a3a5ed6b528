/**
 * The SQL of API keys as their routes read and write them, inside the caller's `withTenant`
 * transaction. Owners and admins see every key of the tenant; other users their own.
 */
import type { Knex } from 'knex';
import type { Principal } from '../../shared/auth/principal.ts';

/** The columns a key is shown with (never its hash). */
export const API_KEY_COLUMNS = ['id', 'name', 'prefix', 'scopes', 'user_id', 'expires_at', 'revoked_at', 'last_used_at', 'created_at'];

/** A signed-in user: the only principal that manages keys. */
export type KeyManager = Principal & { userId: string };

function seesAllKeys(principal: Principal): boolean {
  return principal.role === 'owner' || principal.role === 'admin';
}

function visibleKeys(trx: Knex.Transaction, principal: KeyManager) {
  const query = trx('api_keys').where('tenant_id', principal.tenantId);
  return seesAllKeys(principal) ? query : query.andWhere('user_id', principal.userId);
}

/** Keys of the tenant neither revoked nor expired. */
export async function countActiveKeys(trx: Knex.Transaction, tenantId: string): Promise<number> {
  const [{ count }] = (await trx('api_keys')
    .where('tenant_id', tenantId)
    .whereNull('revoked_at')
    .where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', trx.fn.now()))
    .count('* as count')) as [{ count: number | string }];
  return Number(count);
}

export async function insertApiKey(
  trx: Knex.Transaction,
  owner: KeyManager,
  key: { name: string; prefix: string; hash: string; scopes: string[]; expiresAt: Date | null },
): Promise<Record<string, unknown>> {
  const [created] = await trx('api_keys')
    .insert({
      tenant_id: owner.tenantId,
      user_id: owner.userId,
      name: key.name,
      prefix: key.prefix,
      key_hash: key.hash,
      scopes: key.scopes,
      expires_at: key.expiresAt,
    })
    .returning(API_KEY_COLUMNS);
  return created as Record<string, unknown>;
}

/** The keys `principal` sees, newest first. */
export function listVisibleKeys(trx: Knex.Transaction, principal: KeyManager): Promise<Array<Record<string, unknown>>> {
  return visibleKeys(trx, principal).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id' }]).select(API_KEY_COLUMNS);
}

/** A key `principal` sees, locked for the rest of the transaction. */
export function lockVisibleKey(
  trx: Knex.Transaction,
  principal: KeyManager,
  id: string,
): Promise<{ id: string; prefix: string; revoked_at: Date | null } | undefined> {
  return visibleKeys(trx, principal)
    .andWhere('id', id)
    .forUpdate()
    .first<{ id: string; prefix: string; revoked_at: Date | null } | undefined>('id', 'prefix', 'revoked_at');
}

export async function revokeApiKey(trx: Knex.Transaction, tenantId: string, id: string): Promise<void> {
  await trx('api_keys').where({ id, tenant_id: tenantId }).update({ revoked_at: trx.fn.now() });
}
