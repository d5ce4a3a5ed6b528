// Lattice versions, and result summaries for job lists.
//
// A lattice's content (its spec) lives in immutable `lattice_versions`: the head of the spec
// (shape, boundary, a procedural rule) apart from an explicit obstacle list, which only a run
// reads. A lattice points at its current version; a change makes a new one. A job submitted on a
// stored lattice references the version it was submitted with instead of copying the spec, so a
// thousand jobs on one lattice store its obstacles once, and editing or deleting the lattice
// never changes a submitted job. Jobs with an inline spec keep it in `jobs.lattice`.
//
// Each result row carries its scalar fields (length, count, total_heat…) in a column PostgreSQL
// computes on insert, so a list reads a few bytes per job and never the result itself (a path may
// list 10^6 cells).
import type { Knex } from 'knex';
import { APP_ROLE } from '../shared/db.ts';

/** Tenant tables this migration adds, under row-level security like those of 0006. */
export const TENANT_TABLES_0009: ReadonlyArray<readonly [table: string, column: string]> = [['lattice_versions', 'tenant_id']];

const CURRENT_TENANT = `nullif(current_setting('app.tenant_id', true), '')::uuid`;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lattice_versions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    // Kept when the lattice is deleted while jobs still reference the version.
    t.uuid('lattice_id').references('lattices.id').onDelete('SET NULL');
    t.integer('version').notNullable();
    t.jsonb('spec').notNullable();
    t.jsonb('blocked');
    t.integer('dimensions').notNullable();
    t.bigInteger('cells').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['lattice_id', 'version']);
    t.index(['tenant_id']);
  });

  await knex.schema.alterTable('lattices', (t) => {
    t.integer('version').notNullable().defaultTo(1);
    t.uuid('version_id');
  });
  // Existing lattices become version 1 (head and list split; the list sorted, each cell once).
  await knex.raw(`
    with made as (
      insert into lattice_versions (tenant_id, lattice_id, version, spec, blocked, dimensions, cells, created_at)
      select l.tenant_id, l.id, 1,
             case when jsonb_exists(l.spec->'obstacles', 'blocked') then l.spec - 'obstacles' else l.spec end,
             case when jsonb_exists(l.spec->'obstacles', 'blocked') then
               (select coalesce(jsonb_agg(c order by c), '[]'::jsonb)
                  from (select distinct c from jsonb_array_elements(l.spec->'obstacles'->'blocked') c) cells)
             end,
             l.dimensions, l.cells, l.updated_at
        from lattices l
      returning id, lattice_id)
    update lattices l set version_id = made.id from made where made.lattice_id = l.id`);
  await knex.raw('alter table lattices alter column version_id set not null');
  await knex.raw(
    'alter table lattices add constraint lattices_version_id_foreign foreign key (version_id) references lattice_versions (id) deferrable initially deferred',
  );
  await knex.schema.alterTable('lattices', (t) => t.dropColumn('spec'));

  await knex.schema.alterTable('jobs', (t) => {
    t.uuid('lattice_version_id').references('lattice_versions.id');
    t.index(['lattice_version_id']);
  });
  await knex.raw('alter table jobs alter column lattice drop not null');
  await knex.raw('alter table jobs add constraint jobs_lattice_given check (lattice is not null or lattice_version_id is not null)');

  await knex.raw(`grant select, insert, update, delete on lattice_versions to ${APP_ROLE}`);
  await knex.raw('alter table lattice_versions enable row level security');
  await knex.raw(
    `create policy lattice_versions_tenant_isolation on lattice_versions using (tenant_id = ${CURRENT_TENANT}) with check (tenant_id = ${CURRENT_TENANT})`,
  );

  await knex.raw(`
    create function job_result_summary(result jsonb) returns jsonb
      language sql immutable parallel safe
      as $$ select coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
              from jsonb_each(result) where jsonb_typeof(value) not in ('array', 'object') $$`);
  await knex.raw(`alter table job_results add column summary jsonb generated always as (job_result_summary(result)) stored`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table job_results drop column summary');
  await knex.raw('drop function job_result_summary(jsonb)');

  const fullSpec = (v: string) => `case when ${v}.blocked is null then ${v}.spec else ${v}.spec || jsonb_build_object('obstacles', jsonb_build_object('blocked', ${v}.blocked)) end`;
  await knex.raw(`update jobs j set lattice = ${fullSpec('v')} from lattice_versions v where v.id = j.lattice_version_id and j.lattice is null`);
  await knex.raw('alter table jobs drop constraint jobs_lattice_given');
  await knex.raw('alter table jobs alter column lattice set not null');
  await knex.schema.alterTable('jobs', (t) => {
    t.dropIndex(['lattice_version_id']);
    t.dropColumn('lattice_version_id');
  });

  await knex.schema.alterTable('lattices', (t) => t.jsonb('spec'));
  await knex.raw(`update lattices l set spec = ${fullSpec('v')} from lattice_versions v where v.id = l.version_id`);
  await knex.raw('alter table lattices alter column spec set not null');
  await knex.raw('alter table lattices drop constraint lattices_version_id_foreign');
  await knex.schema.alterTable('lattices', (t) => {
    t.dropColumn('version_id');
    t.dropColumn('version');
  });
  await knex.raw(`revoke all on lattice_versions from ${APP_ROLE}`);
  await knex.schema.dropTable('lattice_versions');
}
