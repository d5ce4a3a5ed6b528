// The artefacts a job's body asked for (`artefacts`): per-cell ones (a components job's labels)
// are stored only when listed. Most jobs list none, so the column is null for them.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.specificType('artefacts', 'text[]');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('artefacts');
  });
}
