// The job types distance_field, min_cost_path and percolation: the jobs table's type check lists every kernel.
import type { Knex } from 'knex';

const BEFORE = ['shortest_path', 'components', 'diffusion'];
const AFTER = [...BEFORE, 'distance_field', 'min_cost_path', 'percolation'];

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

async function allow(knex: Knex, types: readonly string[]): Promise<void> {
  await knex.raw('alter table jobs drop constraint jobs_type_valid');
  await knex.raw(`alter table jobs add constraint jobs_type_valid check (type in (${list(types)}))`);
}

export async function up(knex: Knex): Promise<void> {
  await allow(knex, AFTER);
}

export async function down(knex: Knex): Promise<void> {
  await knex('jobs').whereNotIn('type', BEFORE).delete();
  await allow(knex, BEFORE);
}
