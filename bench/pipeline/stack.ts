/**
 * The pipeline benchmark's stack: the shared bench stack (bench/support/stack.ts) plus the
 * PostgreSQL backends serving it, whose CPU the benchmark counts as the database's share.
 */
import { fileURLToPath } from 'node:url';
import { BenchStack, freePort, type StackProcess } from '../support/stack.ts';

const FLOOR_PROCESS = fileURLToPath(new URL('./floor-process.ts', import.meta.url));

export class PipelineStack extends BenchStack {
  /** PostgreSQL backend processes serving the stack's database. */
  async backendPids(): Promise<number[]> {
    // The stack's roles name their connections `catalytic:<role>`; the benchmark's own do not.
    const rows = (await this.db.raw(`select pid from pg_stat_activity where datname = ? and application_name like 'catalytic:%'`, [this.databaseName])) as {
      rows: Array<{ pid: number }>;
    };
    return rows.rows.map((r) => r.pid);
  }

  /** Starts the floor's server and worker (floor-process.ts) on a table of their own; resolves with the server. */
  async floor(): Promise<StackProcess> {
    await this.db.raw(`create table if not exists floor_jobs (id uuid primary key, body jsonb not null, status text not null default 'queued', result jsonb)`);
    const env = (port: number) => ({
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.options.redisUrl,
      PREFIX: this.prefix,
    });
    const workerPort = await freePort();
    await this.launch('floor-worker', ['--import', 'tsx', FLOOR_PROCESS, 'worker'], env(workerPort), `http://127.0.0.1:${workerPort}`, '/ready');
    const port = await freePort();
    return this.launch('floor-server', ['--import', 'tsx', FLOOR_PROCESS, 'server'], env(port), `http://127.0.0.1:${port}`, '/ready');
  }
}
