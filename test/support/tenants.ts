/**
 * Arranges tenants directly in the database for tests that are not about sign-up: a tenant on a
 * plan, its owner, and an API key with every scope (or the scopes given).
 */
import { randomBytes } from 'node:crypto';
import { generateApiKey } from '../../shared/auth/api-key-format.ts';
import { SCOPES, type Scope } from '../../shared/auth/principal.ts';
import type { Db } from '../../shared/db.ts';

export interface TestTenant {
  tenantId: string;
  userId: string;
  apiKey: string;
  /** `Authorization` header for the API key. */
  headers: { authorization: string };
}

export async function createTestTenant(
  db: Db,
  options: { plan?: string; name?: string; scopes?: readonly Scope[] } = {},
): Promise<TestTenant> {
  const name = options.name ?? `tenant-${randomBytes(3).toString('hex')}`;
  const [tenant] = await db('tenants').insert({ name, plan_code: options.plan ?? 'professional' }).returning('id');
  const tenantId = (tenant as { id: string }).id;
  const [user] = await db('users')
    .insert({
      tenant_id: tenantId,
      email: `${name}-${randomBytes(3).toString('hex')}@example.test`,
      first_name: 'Test',
      last_name: 'Owner',
      // Not a valid hash: this user signs in only through the API key below.
      password_hash: '!',
      role: 'owner',
      // Confirmed, like any owner past sign-up: what an unconfirmed one may not do is tested apart.
      email_verified_at: new Date(),
    })
    .returning('id');
  const userId = (user as { id: string }).id;
  const key = generateApiKey();
  await db('api_keys').insert({
    tenant_id: tenantId,
    user_id: userId,
    name: 'test key',
    prefix: key.prefix,
    key_hash: key.hash,
    scopes: [...(options.scopes ?? SCOPES)],
  });
  return { tenantId, userId, apiKey: key.key, headers: { authorization: `Bearer ${key.key}` } };
}
