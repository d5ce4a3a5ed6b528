// Labels on jobs: up to 16 key/value pairs (a batch's labels are copied to its jobs), filtered on
// by `GET /api/jobs?label=k:v`. Most jobs have none, so the column is null for them and the GIN
// index (jsonb_path_ops: containment `labels @> '{"k":"v"}'` only, the smallest GIN) leaves them out.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.jsonb('labels');
  });
  await knex.raw('create index jobs_labels on jobs using gin (labels jsonb_path_ops) where labels is not null');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists jobs_labels');
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('labels');
  });
}
