/**
 * `catalytic sweep` and `catalytic batches …` run as child processes against the real stack (API,
 * worker process, PostgreSQL, Redis): a small sweep writes one CSV row per grid point that matches
 * its job as the API reports it, and batches can be listed, shown, cancelled and watched.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalyticClient } from '../../client/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { runCli, startWorker } from './stack.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let home: string;

const cli = (args: string[]) =>
  runCli(args, { CATALYTIC_URL: api.url, CATALYTIC_API_KEY: tenant.apiKey, CATALYTIC_CONFIG: join(home, 'credentials.json'), HOME: home });
const client = () => new CatalyticClient({ baseUrl: api.url, apiKey: tenant.apiKey });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'catalytic-cli-batches-'));
  tenant = await createTestTenant(env.db, { plan: 'professional' });
  await startWorker(env);
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('sweep', () => {
  it('runs densities × seeds as one batch and writes a CSV whose rows match the jobs read back through the API', async () => {
    const out = join(home, 'results.csv');
    const run = await cli(['sweep', 'shortest_path', '--shape', '8x8', '--density', '0.1:0.2:0.1', '--seed', '1..3', '--start', '0,0', '--end', '7,7', '--out', out, '--label', 'study:cli']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Submitted 6 jobs in 1 batch: [0-9a-f-]{36}/);
    expect(run.stderr).toMatch(/sweep of 6 jobs\s+completed\s+100%/);
    const [header, ...rows] = (await readFile(out, 'utf8')).trimEnd().split('\n');
    expect(header).toBe('density,seed,job_id,status,reachable,length,visited,error');
    expect(rows.map((r) => r.split(',').slice(0, 2).join(','))).toEqual(['0.1,1', '0.1,2', '0.1,3', '0.2,1', '0.2,2', '0.2,3']);
    const sdk = client();
    const batchId = /Submitted 6 jobs in 1 batch: (\S+)/.exec(run.stderr)![1]!;
    await Promise.all(
      rows.map(async (row) => {
        const [density, seed, id, status, reachable, length, visited, error] = row.split(',');
        const job = await sdk.jobs.get(id!);
        expect(job).toMatchObject({ status, batch_id: batchId, labels: { study: 'cli' } });
        expect(status).toBe('completed');
        expect(error).toBe('');
        const result = job.result as { reachable: boolean; length: number | null; visited: number };
        expect([reachable, length, visited]).toEqual([String(result.reachable), result.length === null ? '' : String(result.length), String(result.visited)]);
        // The row's density and seed are the job's lattice: the same lattice run alone gives the same result.
        const alone = await sdk.jobs.submit({ type: 'shortest_path', lattice: { shape: [8, 8], obstacles: { density: Number(density), seed: Number(seed) } }, params: { start: [0, 0], end: [7, 7] } });
        // (Only the links to each job's own artefacts differ.)
        const { artefacts: _alone, ...aloneResult } = (await sdk.jobs.wait(alone.id)).result as Record<string, unknown>;
        const { artefacts: _batched, ...batchedResult } = job.result as Record<string, unknown>;
        expect(aloneResult).toEqual(batchedResult);
      }),
    );
    // The grid is not trivial: the densities block different cells.
    expect(new Set(rows.map((r) => r.split(',').slice(4).join(','))).size).toBeGreaterThan(1);
  });

  it('writes JSON Lines to stdout by default, and refuses a kernel it does not run', async () => {
    const [run, refused] = await Promise.all([
      cli(['sweep', 'components', '--shape', '8x8', '--density', '0.3', '--seed', '4..5', '--quiet']),
      cli(['sweep', 'percolation', '--shape', '8x8', '--density', '0.3', '--seed', '1']),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const rows = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r.density, r.seed, r.status])).toEqual([
      [0.3, 4, 'completed'],
      [0.3, 5, 'completed'],
    ]);
    for (const row of rows) {
      const result = (await client().jobs.get(row.job_id as string)).result as { count: number; largest: number };
      expect(row).toMatchObject({ count: result.count, largest: result.largest });
    }
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('sweep runs shortest_path, components, diffusion');
  });
});

describe('batches', () => {
  it('lists, shows, cancels and watches a batch', async () => {
    const sdk = client();
    const batch = await sdk.batches.submit({
      // 10^10 cell-steps a job (seconds on two threads): none may finish before the cancel.
      lattice: { shape: [100, 100] },
      defaults: { type: 'diffusion', params: { steps: 1_000_000, alpha: 0.2 } },
      jobs: [{}, {}, {}, {}],
      labels: { kind: 'long' },
    });

    const [list, table] = await Promise.all([cli(['batches', 'list', '--json']), cli(['batches', 'list', '--limit', '1'])]);
    expect(list.code, list.stderr).toBe(0);
    const page = JSON.parse(list.stdout) as { data: Array<{ id: string; total: number }> };
    expect(page.data[0]).toMatchObject({ id: batch.id, total: 4 });
    expect(table.stdout).toMatch(new RegExp(`^${batch.id}\\s+\\w+\\s+4\\s`, 'm'));
    expect(table.stderr).toMatch(/more: catalytic batches list --cursor \S+/);

    const cancel = await cli(['batches', 'cancel', batch.id]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`Cancelled the unfinished jobs of batch ${batch.id}`);

    const watch = await cli(['batches', 'watch', batch.id]);
    expect(watch.code, watch.stderr).toBe(3);
    expect(watch.stdout).toMatch(/^status\s+completed$/m);
    expect(watch.stdout).toMatch(/^cancelled\s+4$/m);

    const show = await cli(['batches', 'show', batch.id, '--json']);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: batch.id, status: 'completed', total: 4, labels: { kind: 'long' }, counts: { cancelled: 4, completed: 0 } });
  });
});
