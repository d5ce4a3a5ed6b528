/**
 * The load benchmark's stack: the shared bench stack (bench/support/stack.ts) plus the bare Koa
 * ceiling server, and the API's heap as its /metrics reports it.
 */
import { fileURLToPath } from 'node:url';
import { BenchStack, freePort, type StackProcess } from '../support/stack.ts';

export { cpuMs, rssBytes } from '../support/process-stats.ts';
export type { BenchTenant, StackProcess } from '../support/stack.ts';

const BARE_KOA = fileURLToPath(new URL('./bare-koa.ts', import.meta.url));

/** V8 heap in use, from the API's own /metrics (prom-client default metrics). */
export async function heapUsedBytes(api: Pick<StackProcess, 'url' | 'metricsUrl'>): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${api.metricsUrl ?? api.url}/metrics`)).text();
    const match = /^catalytic_nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export class LoadStack extends BenchStack {
  /** Starts the bare Koa server (the ceiling, and the floor route on the stack's database and Redis). */
  async bareKoa(): Promise<StackProcess> {
    const port = await freePort();
    const env = { PATH: process.env.PATH ?? '', PORT: String(port), DATABASE_URL: this.databaseUrl, REDIS_URL: this.options.redisUrl };
    return this.launch('bare-koa', ['--import', 'tsx', BARE_KOA], env, `http://127.0.0.1:${port}`, '/ping');
  }
}
