// Credentials that cannot outlive their user: deleting a user revokes the API keys they made, in
// the database, so a deletion made in SQL revokes them too (the foreign key then clears user_id).
//
// And the few lookups the API makes before it knows the tenant, as SECURITY DEFINER functions:
// the API's login runs as the application role, which cannot bypass row-level security, so these
// are the only ways it reads across tenants. Each is owned by the migrating (owner) role, pins
// its search_path, takes one exact key and returns only the columns its caller needs.
import type { Knex } from 'knex';
import { APP_ROLE } from '../shared/db.ts';

/** name(arguments), returns, body: the definer functions the application role may execute. */
const DEFINER_FUNCTIONS: ReadonlyArray<readonly [signature: string, returns: string, body: string]> = [
  [
    // Sign-in: the user of one email (case-insensitive, as the unique index) and their tenant's status.
    'catalytic_sign_in_user(p_email text)',
    'table (id uuid, tenant_id uuid, role text, password_hash text, tenant_status text)',
    `select u.id, u.tenant_id, u.role, u.password_hash, t.status
       from public.users u join public.tenants t on t.id = u.tenant_id
      where lower(u.email) = lower(p_email)`,
  ],
  [
    // API key authentication: one key by its SHA-256 hash, with its tenant's plan and status and its creator's role.
    'catalytic_api_key_by_hash(p_hash text)',
    'table (id uuid, tenant_id uuid, user_id uuid, scopes text[], expires_at timestamptz, revoked_at timestamptz, last_used_at timestamptz, plan_code text, tenant_status text, role text)',
    `select k.id, k.tenant_id, k.user_id, k.scopes, k.expires_at, k.revoked_at, k.last_used_at, t.plan_code, t.status, u.role
       from public.api_keys k join public.tenants t on t.id = k.tenant_id left join public.users u on u.id = k.user_id
      where k.key_hash = p_hash`,
  ],
  [
    // Refresh: only the tenant of one refresh token (by hash); the rest runs as that tenant.
    'catalytic_refresh_token_tenant(p_hash text)',
    'uuid',
    `select tenant_id from public.refresh_tokens where token_hash = p_hash`,
  ],
  [
    // The audit row of a sign-in with an unknown email, which belongs to no tenant.
    'catalytic_record_unknown_sign_in(p_email text, p_ip text, p_user_agent text)',
    'void',
    `insert into public.audit_log (tenant_id, action, ip, user_agent, details)
     values (null, 'auth.sign_in_failed', p_ip, p_user_agent, jsonb_build_object('email', p_email, 'reason', 'unknown_email'))`,
  ],
  [
    // The queue board and queue-depth metrics: every tenant's id, name, plan and status (no users, no secrets).
    'catalytic_tenant_directory()',
    'table (id uuid, name text, plan_code text, status text, created_at timestamptz)',
    `select id, name, plan_code, status, created_at from public.tenants`,
  ],
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function revoke_api_keys_of_deleted_user() returns trigger
    language plpgsql set search_path = public as $$
    begin
      update api_keys set revoked_at = now() where user_id = old.id and revoked_at is null;
      return old;
    end $$`);
  await knex.raw(`
    create trigger users_revoke_api_keys before delete on users
    for each row execute function revoke_api_keys_of_deleted_user()`);
  // Keys whose user was deleted before this migration: revoked like any other.
  await knex.raw(`update api_keys set revoked_at = now() where user_id is null and revoked_at is null`);

  for (const [signature, returns, body] of DEFINER_FUNCTIONS) {
    const volatility = returns === 'void' ? 'volatile' : 'stable';
    await knex.raw(`
      create function ${signature} returns ${returns}
      language sql ${volatility} security definer set search_path = pg_catalog, public as $$ ${body} $$`);
    await knex.raw(`revoke all on function ${signature} from public`);
    await knex.raw(`grant execute on function ${signature} to ${APP_ROLE}`);
  }
  // The API's readiness check reads which migrations ran.
  await knex.raw(`grant select on knex_migrations, knex_migrations_lock to ${APP_ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`revoke all on knex_migrations, knex_migrations_lock from ${APP_ROLE}`);
  for (const [signature] of [...DEFINER_FUNCTIONS].reverse()) await knex.raw(`drop function if exists ${signature}`);
  await knex.raw(`drop trigger if exists users_revoke_api_keys on users`);
  await knex.raw(`drop function if exists revoke_api_keys_of_deleted_user()`);
}
