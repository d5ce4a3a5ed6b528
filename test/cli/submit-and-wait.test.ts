/**
 * The `catalytic` client commands run as child processes against the real stack (API, worker
 * process, PostgreSQL, Redis): `submit --wait` prints the result and exits 0, a failing job exits
 * 1, a cancelled one 3, a bad command line 2, bad credentials 4; `--json` output parses.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalyticClient, type Job, type JobSummary } from '../../client/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { runCli, startWorker } from './stack.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let limited: TestTenant;
let home: string;

/** The CLI's environment for a tenant: URL and key from the environment, no credentials file. */
function cliEnv(apiKey: string | undefined): Record<string, string> {
  return {
    CATALYTIC_URL: api.url,
    ...(apiKey ? { CATALYTIC_API_KEY: apiKey } : {}),
    CATALYTIC_CONFIG: join(home, 'credentials.json'),
    HOME: home,
  };
}

/** Runs the CLI as the main tenant, or with another key, or (null) with no credentials at all. */
const cli = (args: string[], apiKey: string | null = tenant.apiKey) => runCli(args, cliEnv(apiKey ?? undefined));

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'catalytic-cli-'));
  // Jobs of the starter plan may run 300 ms here, so a long one fails with `timeout`. Set before
  // the API or the worker read the plan.
  await env.db('plans').where({ code: 'starter' }).update({ max_job_runtime_ms: 300 });
  [tenant, limited] = await Promise.all([
    createTestTenant(env.db, { plan: 'professional' }),
    createTestTenant(env.db, { plan: 'starter' }),
  ]);
  await startWorker(env);
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('submit --wait', () => {
  it('prints the result as JSON when stdout is not a terminal, with progress lines on stderr, and exits 0', async () => {
    const run = await cli(['submit', 'components', '--shape', '20x20', '--density', '0.3', '--seed', '7', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { count: number; largest: number; histogram: number[]; spans_axis0: boolean };
    expect(result.count).toBeGreaterThan(0);
    expect(result.largest).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/^Submitted job [0-9a-f-]{36} \(components\)$/m);
    expect(run.stderr).toMatch(/^job [0-9a-f-]{36}\s+completed\s+100%\s+elapsed \S+$/m);
  });

  it('prints the whole final job with --json', async () => {
    const run = await cli(['submit', 'shortest_path', '--shape', '10x10', '--start', '0,0', '--end', '9,9', '--wait', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const job = JSON.parse(run.stdout) as Job;
    expect(job).toMatchObject({ type: 'shortest_path', status: 'completed', progress: 1, result: { reachable: true, length: 18 } });
  });

  it('prints a table with --format table', async () => {
    const run = await cli(['submit', 'diffusion', '--shape', '16x16', '--steps', '50', '--alpha', '0.2', '--source', '8,8=100', '--wait', '--format', 'table']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^job [0-9a-f-]{36}\s+diffusion\s+completed/m);
    expect(run.stdout).toMatch(/^total heat\s+\d/m);
    expect(run.stdout).toMatch(/^field\s+16x16 block means/m);
  });

  it('runs a distance field from a face and prints its summary and histogram as a table', async () => {
    const run = await cli(['submit', 'distance_field', '--shape', '6x4', '--face', '0:low', '--wait', '--format', 'table']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^sources\s+4$/m);
    expect(run.stdout).toMatch(/^reached\s+24$/m);
    expect(run.stdout).toMatch(/^max\s+5$/m);
    expect(run.stdout).toMatch(/^\s+5\s+4$/m);
  });

  it('runs a minimum-cost path with diagonals, and refuses an option of another kernel with exit 2', async () => {
    const run = await cli(['submit', 'min_cost_path', '--shape', '10x10', '--start', '0,0', '--end', '9,9', '--max-cost', '1', '--connectivity', 'full', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ reachable: true, cost: 9, length: 9 });
    const wrong = await cli(['submit', 'min_cost_path', '--shape', '10x10', '--start', '0,0', '--end', '9,9', '--max-cost', '3', '--face', '0:low']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--face applies to distance_field jobs only/);
  });

  it('labels components with diagonal neighbours, and refuses --connectivity for diffusion', async () => {
    const lattice = ['--shape', '6x6', '--density', '0.5', '--seed', '3'];
    const [diagonal, axis, wrongKernel] = await Promise.all([
      cli(['submit', 'components', ...lattice, '--connectivity', 'full', '--wait']),
      cli(['submit', 'components', ...lattice, '--wait']),
      cli(['submit', 'diffusion', '--shape', '4x4', '--steps', '1', '--alpha', '0.1', '--connectivity', 'full']),
    ]);
    expect(diagonal.code, diagonal.stderr).toBe(0);
    // Diagonals join clusters the axis steps keep apart (2 clusters against 5 on this lattice).
    expect(JSON.parse(diagonal.stdout)).toMatchObject({ count: 2, largest: 15, spans_axis0: true });
    expect(JSON.parse(axis.stdout)).toMatchObject({ count: 5, largest: 10, spans_axis0: false });
    expect(wrongKernel.code).toBe(2);
    expect(wrongKernel.stderr).toMatch(/--connectivity applies to/);
  });

  it('sweeps the densities of one seed in a percolation job', async () => {
    const run = await cli(['submit', 'percolation', '--shape', '12x12', '--rule-seed', '7', '--points', '5', '--wait', '--format', 'table']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\s+0\s+144\s+144\s+1\s+yes$/m);
    expect(run.stdout).toMatch(/^\s+1\s+0\s+0\s+0\s+no$/m);
  });

  it('answers many pairs in one shortest_path job', async () => {
    const run = await cli(['submit', 'shortest_path', '--shape', '10x10', '--pair', '0,0:9,9', '--pair', '0,0:0,3', '--pair', '5,5:5,5', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { reachable: boolean; pairs: Array<{ length: number; path: number[][] }> };
    expect(result.reachable).toBe(true);
    expect(result.pairs.map((p) => p.length)).toEqual([18, 3, 0]);
    expect(result.pairs[1]!.path).toEqual([[0, 0], [0, 1], [0, 2], [0, 3]]);
  });

  it('exits 1 with the reason when the job fails', async () => {
    const run = await cli(
      // Within the starter plan's 10^9 compute units per job, and seconds of work: past its 300 ms here.
      ['submit', 'diffusion', '--shape', '50x50', '--steps', '300000', '--alpha', '0.2', '--source', '25,25=1', '--wait', '--json'],
      limited.apiKey,
    );
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'failed', error: { code: 'timeout' }, result: null });
    expect(run.stderr).toMatch(/job [0-9a-f-]{36} failed: timeout: /);
  });

  it('exits 3 when the job is cancelled while it waits', async () => {
    const client = new CatalyticClient({ baseUrl: api.url, apiKey: tenant.apiKey });
    const waiting = cli(['submit', 'diffusion', '--shape', '60x60', '--steps', '500000', '--alpha', '0.2', '--source', '30,30=1', '--wait']);
    // Find the job the CLI submitted, and cancel it once it runs.
    let job: JobSummary | undefined;
    while (!job) {
      job = (await client.jobs.list({ status: 'running', type: 'diffusion' })).data[0];
      await new Promise((r) => setTimeout(r, 100));
    }
    await client.jobs.cancel(job.id);
    const run = await waiting;
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`job ${job.id} was cancelled`);
    expect(run.stdout).toBe('');
  });
});

describe('jobs, results and lattices', () => {
  it('submits without waiting, then shows, lists, watches and prints the result', async () => {
    const submitted = await cli(['submit', 'components', '--shape', '12x12', '--artefacts', 'labels', '--json']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const job = JSON.parse(submitted.stdout) as Job;
    expect(job).toMatchObject({ type: 'components', status: 'queued' });

    const watched = await cli(['jobs', 'watch', job.id, '--json']);
    expect(watched.code, watched.stderr).toBe(0);
    const lines = watched.stdout.trim().split('\n').map((line) => JSON.parse(line) as Job);
    expect(lines.at(-1)).toMatchObject({ id: job.id, status: 'completed' });

    const shown = await cli(['jobs', 'show', job.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^id\\s+${job.id}$`, 'm'));
    expect(shown.stdout).toMatch(/^status\s+completed$/m);

    const listed = await cli(['jobs', 'list', '--type', 'components', '--json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { data: Job[] }).data.map((j) => j.id)).toContain(job.id);

    const asJson = await cli(['result', job.id]);
    expect(asJson.code).toBe(0);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ count: 1, largest: 144, spans_axis0: true });
    const asTable = await cli(['result', job.id, '--table']);
    expect(asTable.stdout).toMatch(/^clusters\s+1$/m);
    expect(asTable.stdout).toMatch(/^largest\s+144$/m);
    // The table says where the full arrays are and how to fetch them.
    expect(asTable.stdout).toMatch(/^artefacts: labels, component_sizes$/m);
    expect(asTable.stdout).toContain(`catalytic result ${job.id} --download labels.npy`);
    expect(asTable.stdout).toContain(`catalytic result ${job.id} --png picture.png`);
  });

  it('cancels a job with jobs cancel', async () => {
    const client = new CatalyticClient({ baseUrl: api.url, apiKey: tenant.apiKey });
    const job = await client.jobs.submit({ type: 'diffusion', lattice: { shape: [60, 60] }, params: { steps: 500_000, alpha: 0.2 } });
    const run = await cli(['jobs', 'cancel', job.id, '--wait']);
    expect(run.code, run.stderr).toBe(3);
    expect((await client.jobs.get(job.id)).status).toBe('cancelled');
  });

  it('creates, lists, shows and deletes a lattice, and submits on it', async () => {
    const created = await cli(['lattice', 'create', '--name', 'grid', '--shape', '8x8', '--boundary', 'periodic', '--density', '0.1', '--seed', '4', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const lattice = JSON.parse(created.stdout) as { id: string; cells: number; spec: { boundary: string } };
    expect(lattice).toMatchObject({ cells: 64, spec: { boundary: 'periodic' } });

    const listed = await cli(['lattice', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^${lattice.id}\\s+grid\\s+8x8\\s+64\\s+periodic\\s+procedural`, 'm'));

    // One a page: the first page names the command for the next; --all walks every page.
    const second = await cli(['lattice', 'create', '--name', 'second', '--shape', '4x4', '--json']);
    const secondId = (JSON.parse(second.stdout) as { id: string }).id;
    const firstPage = await cli(['lattice', 'list', '--limit', '1']);
    expect(firstPage.stdout.trim().split('\n')).toHaveLength(2);
    const more = /more: catalytic lattice list --cursor (\S+)/.exec(firstPage.stderr);
    expect(more?.[1], firstPage.stderr).toBeTruthy();
    const nextPage = await cli(['lattice', 'list', '--limit', '1', '--cursor', more?.[1] ?? '', '--json']);
    const everyPage = await cli(['lattice', 'list', '--limit', '1', '--all', '--json']);
    const ids = (run: { stdout: string }) => (JSON.parse(run.stdout) as { data: Array<{ id: string }> }).data.map((l) => l.id);
    expect(ids(everyPage).sort()).toEqual([lattice.id, secondId].sort());
    expect(ids(nextPage)).toHaveLength(1);
    expect(firstPage.stdout).not.toContain(ids(nextPage)[0]);
    expect((await cli(['lattice', 'delete', secondId])).code).toBe(0);
    const shown = await cli(['lattice', 'show', lattice.id]);
    expect(shown.stdout).toMatch(/^obstacles\s+procedural, density 0.1, seed 4$/m);

    const onLattice = await cli(['submit', 'components', '--lattice', lattice.id, '--wait', '--quiet']);
    expect(onLattice.code, onLattice.stderr).toBe(0);
    expect(onLattice.stderr).toBe('');
    expect(JSON.parse(onLattice.stdout)).toMatchObject({ count: expect.any(Number) });

    expect((await cli(['lattice', 'delete', lattice.id])).code).toBe(0);
    const gone = await cli(['lattice', 'show', lattice.id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/Not found: .*\(HTTP 404 not_found\)/);
  });

  it('prints usage as JSON', async () => {
    const run = await cli(['usage', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const usage = JSON.parse(run.stdout) as { month: { quotas: { jobs: { used: number } } } };
    expect(usage.month.quotas.jobs.used).toBeGreaterThan(0);
  });
});

describe('exit codes', () => {
  it('says how to ask for a bigger plan when a job is beyond its plan', async () => {
    const run = await cli(['submit', 'components', '--shape', '60x60'], limited.apiKey);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/HTTP 402 plan_limit_exceeded/);
    expect(run.stderr).toMatch(/the professional plan allows it: catalytic subscription change professional/);
  });

  it('exits 2 on a bad command line, before calling the API', async () => {
    const runs = await Promise.all([
      cli(['submit', 'mandelbrot', '--shape', '4x4']),
      cli(['submit', 'shortest_path', '--shape', '4x4']),
      cli(['submit', 'components', '--shape', '4xfour']),
      cli(['jobs', 'list', '--frobnicate']),
      cli(['teleport']),
    ]);
    for (const run of runs) expect(run.code, run.stderr).toBe(2);
    expect(runs[0]!.stderr).toMatch(/unknown job type mandelbrot/);
    expect(runs[1]!.stderr).toMatch(/needs --start and --end/);
    expect(runs[2]!.stderr).toMatch(/expected side lengths/);
  });

  it('exits 4 without credentials, with a bad key, or with a key lacking the scope', async () => {
    const scoped = await createTestTenant(env.db, { scopes: ['jobs:read'] });
    const [none, bad, forbidden] = await Promise.all([
      cli(['jobs', 'list'], null),
      cli(['jobs', 'list'], `ck_aaaaaaaa_${'b'.repeat(43)}`),
      cli(['submit', 'components', '--shape', '4x4'], scoped.apiKey),
    ]);
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/Not signed in/);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/HTTP 401 invalid_token/);
    expect(forbidden.code).toBe(4);
    expect(forbidden.stderr).toMatch(/HTTP 403 insufficient_scope/);
  });

  it('exits 1 when the API cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await runCli(['jobs', 'list'], { ...cliEnv(tenant.apiKey), CATALYTIC_URL: url });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`ECONNREFUSED`);
    expect(run.stderr).toContain(`is the API running at ${url}?`);
  });
});
