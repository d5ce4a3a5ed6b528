// Small artefacts kept in their job's result row (`job_results.artefacts`: name → dtype and shape,
// size, sha256 and the bytes in base64) instead of a blob, its chunk and a `job_artefacts` row
// each: for a tiny job those three rows cost more than the job. Null for every other result.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_results', (t) => {
    t.jsonb('artefacts');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('job_results', (t) => {
    t.dropColumn('artefacts');
  });
}
