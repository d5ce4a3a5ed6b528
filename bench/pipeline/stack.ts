/**
 * The pipeline benchmark's stack: the shared bench stack (bench/support/stack.ts) plus the
 * PostgreSQL backends serving it, whose CPU the benchmark counts as the database's share.
 */
import { BenchStack } from '../support/stack.ts';

export class PipelineStack extends BenchStack {
  /** PostgreSQL backend processes serving the stack's database. */
  async backendPids(): Promise<number[]> {
    // The stack's roles name their connections `catalytic:<role>`; the benchmark's own do not.
    const rows = (await this.db.raw(`select pid from pg_stat_activity where datname = ? and application_name like 'catalytic:%'`, [this.databaseName])) as {
      rows: Array<{ pid: number }>;
    };
    return rows.rows.map((r) => r.pid);
  }
}
