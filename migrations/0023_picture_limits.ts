// Pictures: a per-plan cap on the pixels of one PNG rendering of a job (docs/http-api.md ›
// Pictures), so a rendering's time and bytes are bounded by what the tenant pays for.
import type { Knex } from 'knex';

/** Most pixels of one rendering, by plan (-1 = unlimited). */
export const MAX_PICTURE_PIXELS: Readonly<Record<string, number>> = { free: 2 ** 18, starter: 2 ** 22, professional: 2 ** 24, enterprise: 2 ** 26 };

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('plans', (t) => {
    // Plans added later by an operator get the free plan's cap until they say otherwise.
    t.bigInteger('max_picture_pixels').notNullable().defaultTo(MAX_PICTURE_PIXELS.free as number);
  });
  for (const [code, max] of Object.entries(MAX_PICTURE_PIXELS)) await knex('plans').where({ code }).update({ max_picture_pixels: max });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('plans', (t) => {
    t.dropColumn('max_picture_pixels');
  });
}
