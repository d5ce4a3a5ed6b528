// The operator's queue of plan requests spans tenants, and the API's login cannot bypass
// row-level security: two SECURITY DEFINER functions let the operator routes read it (one request
// by id; a page of requests by status, oldest first, with each tenant's name). Deciding a request
// then runs as its tenant, like every other write.
import type { Knex } from 'knex';
import { APP_ROLE } from '../shared/db.ts';

const ROW = `id uuid, tenant_id uuid, from_plan text, to_plan text, status text, requested_by uuid, decided_by text,
  reason text, created_at timestamptz, decided_at timestamptz, updated_at timestamptz, tenant_name text`;
const COLUMNS = `r.id, r.tenant_id, r.from_plan, r.to_plan, r.status, r.requested_by, r.decided_by, r.reason,
  r.created_at, r.decided_at, r.updated_at, t.name`;

const FUNCTIONS: ReadonlyArray<readonly [signature: string, body: string]> = [
  ['catalytic_plan_request(p_id uuid)', `select ${COLUMNS} from public.plan_requests r join public.tenants t on t.id = r.tenant_id where r.id = p_id`],
  [
    'catalytic_plan_requests(p_status text, p_limit integer)',
    `select ${COLUMNS} from public.plan_requests r join public.tenants t on t.id = r.tenant_id
      where p_status is null or r.status = p_status
      order by r.created_at, r.id limit least(p_limit, 500)`,
  ],
];

export async function up(knex: Knex): Promise<void> {
  for (const [signature, body] of FUNCTIONS) {
    await knex.raw(`
      create function ${signature} returns table (${ROW})
      language sql stable security definer set search_path = pg_catalog, public as $$ ${body} $$`);
    await knex.raw(`revoke all on function ${signature} from public`);
    await knex.raw(`grant execute on function ${signature} to ${APP_ROLE}`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [signature] of [...FUNCTIONS].reverse()) await knex.raw(`drop function if exists ${signature}`);
}
