// A batch chunk's attempts (docs/architecture.md › Batches): the rows of a chunk are not marked
// `running` when the chunk starts; the chunk's attempt is counted here, one row per chunk entry
// (its BullMQ id, `<batchId>.<n>`), raised by the statement that reads the chunk's rows when a
// worker takes it. A job's attempt in a chunk is at least this count, so a chunk that keeps
// killing its workers still exhausts its jobs' attempts. Only the worker reads and writes it.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_chunks', (t) => {
    t.text('id').primary();
    // Deleted with its batch (retention deletes complete batches).
    t.uuid('batch_id').notNullable().references('batches.id').onDelete('CASCADE');
    t.integer('attempts').notNullable();
    t.text('worker_id');
    t.timestamp('started_at', { useTz: true }).notNullable();
  });
  await knex.raw('create index job_chunks_batch on job_chunks (batch_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_chunks');
}
