// Blobs: uploaded obstacle maps and full results, streamed in and out (docs/architecture.md › Blobs).
//
// `blobs` holds one row per blob (its tenant, kind, size, sha256 and the backend holding its
// bytes); `blob_chunks` holds the bytes of blobs stored in PostgreSQL, one row per 1 MiB chunk,
// keyed by blob and chunk index. A blob's row and its chunks are written in one transaction, so a
// refused or broken upload leaves nothing behind. `job_artefacts` names the blobs holding a job's
// full results. All three are tenant tables under row-level security.
//
// Plans gain a storage quota (bytes of blobs a tenant may keep, -1 = unlimited) and whether jobs
// store their full results as artefacts (a plan that does not gets the JSON summary only).
import type { Knex } from 'knex';
import { APP_ROLE } from '../shared/db.ts';

/** Tenant tables this migration adds, under row-level security like those of 0006. */
export const TENANT_TABLES_0015: ReadonlyArray<readonly [table: string, column: string]> = [
  ['blobs', 'tenant_id'],
  ['blob_chunks', 'tenant_id'],
  ['job_artefacts', 'tenant_id'],
];

/** Storage per plan: bytes of blobs kept, and whether jobs keep full results. */
export const PLAN_STORAGE: Readonly<Record<string, { max_storage_bytes: number; stores_artefacts: boolean }>> = {
  free: { max_storage_bytes: 16 * 2 ** 20, stores_artefacts: false },
  starter: { max_storage_bytes: 2 ** 30, stores_artefacts: true },
  professional: { max_storage_bytes: 20 * 2 ** 30, stores_artefacts: true },
  enterprise: { max_storage_bytes: -1, stores_artefacts: true },
};

const CURRENT_TENANT = `nullif(current_setting('app.tenant_id', true), '')::uuid`;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('plans', (t) => {
    t.bigInteger('max_storage_bytes').notNullable().defaultTo(-1);
    t.boolean('stores_artefacts').notNullable().defaultTo(true);
  });
  for (const [code, storage] of Object.entries(PLAN_STORAGE)) await knex('plans').where({ code }).update(storage);

  await knex.schema.createTable('blobs', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('tenant_id').notNullable().references('tenants.id').onDelete('CASCADE');
    /** `obstacle_map` (an upload) or `artefact` (a job's full result). */
    t.text('kind').notNullable();
    t.text('media_type').notNullable();
    /** Which backend holds the bytes: `postgres` (blob_chunks) or `s3`. */
    t.text('backend').notNullable();
    t.bigInteger('size').notNullable().defaultTo(0);
    t.text('sha256');
    /** What the bytes mean, e.g. an obstacle map's shape or an artefact's dtype and shape. */
    t.jsonb('meta').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.check(`kind in ('obstacle_map', 'artefact')`, [], 'blobs_kind_valid');
    t.index(['tenant_id', 'created_at']);
  });

  await knex.schema.createTable('blob_chunks', (t) => {
    t.uuid('blob_id').notNullable().references('blobs.id').onDelete('CASCADE');
    t.integer('chunk_index').notNullable();
    t.uuid('tenant_id').notNullable();
    t.binary('data').notNullable();
    t.primary(['blob_id', 'chunk_index']);
  });
  // A job's full results: each artefact names a blob; the blob outlives nothing that names it.
  await knex.schema.createTable('job_artefacts', (t) => {
    t.uuid('job_id').notNullable().references('jobs.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.uuid('tenant_id').notNullable();
    t.uuid('blob_id').notNullable().references('blobs.id');
    t.primary(['job_id', 'name']);
    t.index(['blob_id']);
  });

  // Chunks are written once and read sequentially: keep them out of TOAST compression (maps and
  // fields compress poorly, and the API gzips on request anyway).
  await knex.raw(`alter table blob_chunks alter column data set storage external`);

  // Retention finds the blobs still referenced by a lattice version or a job's inline spec.
  await knex.raw(`create index lattice_versions_obstacle_map on lattice_versions ((spec->'obstacles'->>'map')) where (spec->'obstacles'->>'map') is not null`);
  await knex.raw(`create index jobs_obstacle_map on jobs ((lattice->'obstacles'->>'map')) where (lattice->'obstacles'->>'map') is not null`);

  for (const [table, column] of TENANT_TABLES_0015) {
    await knex.raw(`grant select, insert, update, delete on ${table} to ${APP_ROLE}`);
    await knex.raw(`alter table ${table} enable row level security`);
    await knex.raw(
      `create policy ${table}_tenant_isolation on ${table} using (${column} = ${CURRENT_TENANT}) with check (${column} = ${CURRENT_TENANT})`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists jobs_obstacle_map');
  await knex.raw('drop index if exists lattice_versions_obstacle_map');
  await knex.schema.dropTable('job_artefacts');
  await knex.schema.dropTable('blob_chunks');
  await knex.schema.dropTable('blobs');
  await knex.schema.alterTable('plans', (t) => {
    t.dropColumn('max_storage_bytes');
    t.dropColumn('stores_artefacts');
  });
}
