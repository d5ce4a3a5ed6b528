// One-time account links (password reset now; invitations and address checks use the same table):
// only the SHA-256 of each token is stored, with its kind, its expiry and when it was spent. A
// token arrives before its tenant is known, so one definer function maps a hash to its tenant
// (nothing else); the rest runs as that tenant under row-level security.
import type { Knex } from 'knex';
import { APP_ROLE } from '../shared/db.ts';

/** Tenant tables this migration adds (row-level security on each). */
export const TENANT_TABLES_0018: ReadonlyArray<readonly [table: string, column: string]> = [['account_tokens', 'tenant_id']];

const CURRENT_TENANT = `nullif(current_setting('app.tenant_id', true), '')::uuid`;
const TOKEN_TENANT = 'catalytic_account_token_tenant(p_hash text)';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('account_tokens', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    // Null for an invitation: the user does not exist until it is accepted.
    t.uuid('user_id').references('users.id').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.text('token_hash').notNullable().unique();
    // The address the link was sent to (an invitation's invitee, an address being verified).
    t.text('email').notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check(`kind in ('password_reset', 'invitation', 'email_verification')`, [], 'account_tokens_kind_valid');
    t.index(['tenant_id', 'kind', 'created_at']);
    t.index(['user_id']);
    t.index(['expires_at']);
  });
  await knex.raw(`grant select, insert, update, delete on account_tokens to ${APP_ROLE}`);
  await knex.raw(`alter table account_tokens enable row level security`);
  await knex.raw(
    `create policy account_tokens_tenant_isolation on account_tokens using (tenant_id = ${CURRENT_TENANT}) with check (tenant_id = ${CURRENT_TENANT})`,
  );
  await knex.raw(`
    create function ${TOKEN_TENANT} returns uuid
    language sql stable security definer set search_path = pg_catalog, public as $$
      select tenant_id from public.account_tokens where token_hash = p_hash $$`);
  await knex.raw(`revoke all on function ${TOKEN_TENANT} from public`);
  await knex.raw(`grant execute on function ${TOKEN_TENANT} to ${APP_ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop function if exists ${TOKEN_TENANT}`);
  await knex.schema.dropTableIfExists('account_tokens');
}
