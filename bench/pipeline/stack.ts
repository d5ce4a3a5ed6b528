/** The pipeline benchmark's stack: the shared bench stack (bench/support/stack.ts) plus the floor. */
import { fileURLToPath } from 'node:url';
import { BenchStack, freePort, type StackProcess } from '../support/stack.ts';

const FLOOR_PROCESS = fileURLToPath(new URL('./floor-process.ts', import.meta.url));

export class PipelineStack extends BenchStack {
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
