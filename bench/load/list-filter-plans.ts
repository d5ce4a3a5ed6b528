/**
 * `node --import tsx bench/load/list-filter-plans.ts [-- --jobs 1000000]`: the plan PostgreSQL
 * picks for each filtered job list page, prepared (generic plan, as `executeAsTenant` runs it)
 * against planned each time (custom plan), on a fresh database of `--jobs` jobs over ten tenants:
 * nine in ten completed, 1% labelled `sweep` 0–49, one tenant's sweep `big` of 10,000 jobs, three
 * types. Each case runs as the tenant (row-level security on) with EXPLAIN ANALYZE; the report per
 * case: each plan's top nodes, planning and execution time. JSON on stdout.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { APP_ROLE, sql } from '../../shared/db.ts';
import { pageText, preparedPage } from '../../shared/jobs/list-statements.ts';
import { BenchStack } from '../support/stack.ts';

const { values: args } = parseArgs({ options: { jobs: { type: 'string', default: '1000000' } } });
const JOBS = Number(args.jobs);
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';

interface Plan {
  Plan: Record<string, unknown>;
  'Planning Time': number;
  'Execution Time': number;
}

/** The plan's node types, depth first, down to `depth` levels, with their index names. */
function outline(node: Record<string, unknown>, depth = 4): string {
  const name = `${node['Node Type'] as string}${node['Index Name'] ? ` ${node['Index Name'] as string}` : ''}`;
  const children = (node.Plans as Array<Record<string, unknown>> | undefined) ?? [];
  return depth <= 1 || children.length === 0 ? name : `${name} (${children.map((c) => outline(c, depth - 1)).join(', ')})`;
}

const stack = new BenchStack({ serverUrl: SERVER_URL, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', name: 'listplans', credentialPerSecond: 1 });
await stack.start();
const client = new pg.Client({ connectionString: stack.databaseUrl });
await client.connect();
try {
  const tenants = (await stack.tenants(10)).map((t) => t.tenantId);
  const started = performance.now();
  await client.query(
    `insert into jobs (tenant_id, type, status, lattice, params, cells, labels, created_at)
     select ($1::uuid[])[1 + i % 10],
            (array['shortest_path', 'shortest_path', 'shortest_path', 'shortest_path', 'components', 'percolation'])[1 + (i / 10) % 6],
            case when i % 100 < 90 then 'completed' when i % 100 < 95 then 'failed' when i % 100 < 98 then 'queued' else 'cancelled' end,
            '{"shape": [8, 8]}', '{}', 64,
            case when i % 10 = 0 and i < 100000 then '{"sweep": "big"}'::jsonb
                 when i % 97 = 1 then jsonb_build_object('sweep', ((i / 97) % 50)::text) end,
            now() - make_interval(secs => ($2::int - i) * 0.5)
       from generate_series(1, $2::int) as i`,
    [tenants, JOBS],
  );
  await client.query('analyze jobs');
  const loadMs = Math.round(performance.now() - started);
  const tenant = tenants[0] as string;
  const recent = new Date(Date.now() - 3_600_000).toISOString();
  const old = new Date(Date.now() - (JOBS / 2) * 1000).toISOString();
  type Filter = 'status' | 'type' | 'labels' | 'batchId' | 'createdAfter';
  const cases: Array<{ case: string; filters: Partial<Record<Filter, string>>; limit: number }> = [
    { case: 'status completed (90%)', filters: { status: 'completed' }, limit: 20 },
    { case: 'status cancelled (2%)', filters: { status: 'cancelled' }, limit: 20 },
    { case: 'type components (1/6)', filters: { type: 'components' }, limit: 20 },
    { case: 'label sweep:7 (~20 per tenant)', filters: { labels: '{"sweep": "7"}' }, limit: 20 },
    { case: 'label sweep:big (10,000 of the tenant)', filters: { labels: '{"sweep": "big"}' }, limit: 20 },
    { case: 'label sweep:7 and status failed', filters: { labels: '{"sweep": "7"}', status: 'failed' }, limit: 20 },
    { case: 'label sweep:none (no job)', filters: { labels: '{"sweep": "none"}' }, limit: 20 },
    { case: 'batch (no job)', filters: { batchId: 'ffffffff-ffff-4fff-bfff-ffffffffffff' }, limit: 20 },
    { case: 'created in the last hour', filters: { createdAfter: recent }, limit: 20 },
    { case: 'created after the middle', filters: { createdAfter: old }, limit: 20 },
    { case: 'status failed and type percolation', filters: { status: 'failed', type: 'percolation' }, limit: 100 },
  ];
  const casts: Record<Filter, string> = { status: 'text', type: 'text', labels: 'jsonb', batchId: 'uuid', createdAfter: 'timestamptz' };
  const columns: Record<Filter, string> = { status: 'j.status', type: 'j.type', labels: 'j.labels', batchId: 'j.batch_id', createdAfter: 'j.created_at' };
  const operator = (n: Filter) => (n === 'labels' ? '@>' : n === 'createdAfter' ? '>' : '=');
  const report = [];
  for (const c of cases) {
    const given = (['status', 'type', 'labels', 'batchId', 'createdAfter'] as const).filter((n) => c.filters[n] !== undefined);
    // The statement listJobs prepares (a label's is made here the same way: listJobs plans it each time).
    const rows = preparedPage(c.limit, false)?.rows ?? c.limit + 1;
    const shipped = given.includes('labels') ? undefined : preparedPage(c.limit, false, new Set(given as Array<Exclude<Filter, 'labels'>>));
    const statement = {
      name: shipped?.statement.name ?? '(planned each time)',
      params: ['uuid', ...given.map((n) => casts[n])],
      text: pageText(['j.tenant_id = $1', ...given.map((n, i) => `${columns[n]} ${operator(n)} $${i + 2}`)].join(' and '), rows),
    };
    if (shipped && shipped.statement.text !== statement.text) throw new Error(`${shipped.statement.name} is not the statement measured`);
    const where = [sql`j.tenant_id = ${tenant}`.text, ...given.map((n) => `${columns[n]} ${operator(n)} ${sql`${c.filters[n] as string}`.text}::${casts[n]}`)];
    const explain = async (text: string, generic: boolean): Promise<Plan> => {
      await client.query('begin');
      try {
        await client.query(`select set_config('role', $1, true), set_config('app.tenant_id', $2, true), set_config('plan_cache_mode', $3, true)`, [APP_ROLE, tenant, generic ? 'force_generic_plan' : 'auto']);
        const { rows } = await client.query<{ 'QUERY PLAN': Plan[] }>(`explain (analyze, format json) ${text}`);
        return (rows[0] as { 'QUERY PLAN': Plan[] })['QUERY PLAN'][0] as Plan;
      } finally {
        await client.query('rollback');
      }
    };
    const custom = await explain(pageText(where.join(' and '), rows), false);
    await client.query(`prepare probe(${statement.params.join(', ')}) as ${statement.text}`);
    const args = [sql`${tenant}`.text, ...given.map((n) => sql`${c.filters[n] as string}`.text)];
    const generic = await explain(`execute probe(${args.join(', ')})`, true);
    await client.query('deallocate probe');
    const summary = (p: Plan) => ({ plan: outline(p.Plan), planning_ms: p['Planning Time'], execution_ms: p['Execution Time'], rows: p.Plan['Actual Rows'] });
    report.push({ case: c.case, statement: statement.name, planned_each_time: summary(custom), prepared_generic: summary(generic) });
  }
  process.stdout.write(`${JSON.stringify({ jobs: JOBS, tenants: 10, load_ms: loadMs, load_average: loadavg().map((l) => Math.round(l * 100) / 100), cases: report }, null, 2)}\n`);
} finally {
  await client.end();
  await stack.stop();
}
