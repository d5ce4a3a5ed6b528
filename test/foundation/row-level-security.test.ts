import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { APP_ROLE, withTenant } from '../../shared/db.ts';
import { TENANT_TABLES as TENANT_TABLES_0006 } from '../../migrations/0006_row_level_security.ts';
import { TENANT_TABLES_0008 } from '../../migrations/0008_plan_requests_compute.ts';
import { TENANT_TABLES_0009 } from '../../migrations/0009_lattice_versions_result_summaries.ts';
import { TENANT_TABLES_0015 } from '../../migrations/0015_blobs.ts';
import { TENANT_TABLES_0016 } from '../../migrations/0016_batches.ts';
import { TENANT_TABLES_0018 } from '../../migrations/0018_account_tokens.ts';
import { TENANT_TABLES_0021 } from '../../migrations/0021_notifications.ts';
import { insertLattice } from '../support/lattices.ts';
import { useTestEnvironment } from '../support/context.ts';


const env = useTestEnvironment();
const TENANT_TABLES = [...TENANT_TABLES_0006, ...TENANT_TABLES_0008, ...TENANT_TABLES_0009, ...TENANT_TABLES_0015, ...TENANT_TABLES_0016, ...TENANT_TABLES_0018, ...TENANT_TABLES_0021];

async function seedTenant(name: string): Promise<string> {
  const [tenant] = await env.db('tenants').insert({ name, plan_code: 'starter' }).returning('id');
  const tenantId = (tenant as { id: string }).id;
  await insertLattice(env.db, tenantId, { name: `${name} grid`, spec: { shape: [4, 4] } });
  await env.db('users').insert({
    tenant_id: tenantId, email: `${name}@example.test`, first_name: name, last_name: 'Owner', password_hash: 'x', role: 'owner',
  });
  return tenantId;
}

describe('row-level security', () => {
  it('lets a tenant transaction see only its own rows, even with a raw SELECT *', async () => {
    const a = await seedTenant('alpha');
    const b = await seedTenant('beta');

    const seen = await withTenant(env.db, a, async (trx) => ({
      role: (await trx.raw('select current_user as role')).rows[0].role as string,
      lattices: (await trx.raw('select * from lattices')).rows as Array<{ tenant_id: string }>,
      users: (await trx.raw('select * from users')).rows as Array<{ tenant_id: string }>,
      tenants: (await trx.raw('select * from tenants')).rows as Array<{ id: string }>,
    }));

    expect(seen.role).toBe(APP_ROLE);
    expect(seen.lattices.map((r) => r.tenant_id)).toEqual([a]);
    expect(seen.users.map((r) => r.tenant_id)).toEqual([a]);
    expect(seen.tenants.map((r) => r.id)).toEqual([a]);
    // The owner connection sees both, so the filter above is row-level security's doing.
    expect(await env.db('lattices').count<{ count: string }[]>('* as count')).toEqual([{ count: 2 }]);
    expect(b).not.toBe(a);
  });

  it('refuses to write a row for another tenant', async () => {
    const a = await seedTenant('gamma');
    const b = await seedTenant('delta');
    const write = withTenant(env.db, a, (trx) =>
      trx('lattices').insert({ tenant_id: b, version_id: randomUUID(), dimensions: 1, cells: 2 }),
    );
    await expect(write).rejects.toThrow(/row-level security/);
  });

  it('shows nothing when no tenant is set', async () => {
    await seedTenant('epsilon');
    const rows = await env.db.transaction(async (trx) => {
      await trx.raw(`set local role ${APP_ROLE}`);
      return (await trx.raw('select * from lattices')).rows as unknown[];
    });
    expect(rows).toEqual([]);
  });

  it('covers every table that holds tenant data', async () => {
    const { rows } = await env.db.raw<{ rows: Array<{ relname: string }> }>(
      `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r' and c.relrowsecurity order by 1`,
    );
    expect(rows.map((r) => r.relname)).toEqual(TENANT_TABLES.map(([t]) => t).sort());
    const { rows: columns } = await env.db.raw<{ rows: Array<{ table_name: string }> }>(
      `select distinct table_name from information_schema.columns where table_schema = 'public' and column_name = 'tenant_id'`,
    );
    const protectedTables = new Set(TENANT_TABLES.map(([t]) => t));
    expect(columns.map((c) => c.table_name).filter((t) => !protectedTables.has(t))).toEqual([]);
  });
});
