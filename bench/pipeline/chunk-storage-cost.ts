/**
 * `node --import tsx bench/pipeline/chunk-storage-cost.ts [-- --rounds N]`: what the same tiny
 * batch jobs as batch-pg-cost.ts would cost PostgreSQL if a chunk, not a job, were the stored unit
 * (docs/performance.md › The batch path's CPU per job…, "A chunk is the stored unit"). A sketch of
 * that storage, on a scratch table beside the real schema, not the product's code:
 *
 * - submit: one `withTenant` transaction (row-level security on, as the API's), the batch row and
 *   one row per chunk of 100 jobs (their parameters as one JSON array, the lattice once), and the
 *   compute units, as batch-pg-cost.ts's submit;
 * - run: per chunk, one statement takes it (its attempt counted, its parameters read; committed
 *   without waiting for its flush, as `startChunk`), and one writes every job's status and result
 *   (the same result and inline path as batch-pg-cost.ts) and adds the chunk to the batch's counts.
 *
 * Run it alternately with batch-pg-cost.ts (today's rows) on the same server: the report is the
 * CPU of the PostgreSQL backend of each side, from /proc, and the WAL, per job. JSON on stdout.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { insertBatch } from '../../api/batches/store.ts';
import { APP_ROLE, withTenant } from '../../shared/db.ts';
import { recordUsage, USAGE_METRICS } from '../../shared/usage.ts';
import { PgCostMeter } from './pg-cost-meter.ts';
import { PipelineStack } from './stack.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const ROUNDS = at >= 0 ? Number(args[at + 1]) : 10;
const option = (name: string, fallback: string): string => (args.includes(`--${name}`) ? (args[args.indexOf(`--${name}`) + 1] as string) : fallback);
/** `--results jsonb|json`: the results column's type (json keeps the text as sent: no conversion to jsonb's binary form). */
const RESULTS_TYPE = option('results', 'jsonb');
/** `--compression pglz|lz4`: how PostgreSQL compresses the results' TOASTed value. */
const COMPRESSION = option('compression', 'pglz');
if (!['jsonb', 'json'].includes(RESULTS_TYPE) || !['pglz', 'lz4'].includes(COMPRESSION)) throw new Error('--results jsonb|json, --compression pglz|lz4');
const BATCH = 1000;
const CHUNK = 100;
const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** The chunk-row table: what the product's `jobs` would hold for a batch's tiny jobs, a row per chunk. */
const SCHEMA = `
  create table bench_job_chunks (
    tenant_id uuid not null references tenants (id) on delete cascade,
    batch_id uuid not null,
    n integer not null,
    first_index integer not null,
    type text not null,
    lattice jsonb,
    params jsonb not null,
    statuses smallint[] not null,
    attempts integer not null default 0,
    worker_id text,
    results ${RESULTS_TYPE} compression ${COMPRESSION},
    started_at timestamptz,
    finished_at timestamptz,
    created_at timestamptz not null default now(),
    primary key (batch_id, n));
  create index bench_job_chunks_tenant_created on bench_job_chunks (tenant_id, created_at);
  alter table bench_job_chunks enable row level security;
  create policy bench_job_chunks_tenant_isolation on bench_job_chunks
    using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
  grant select, insert, update, delete on bench_job_chunks to ${APP_ROLE};`;

const stack = new PipelineStack({ serverUrl: SERVER_URL, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', name: 'chunkcost', credentialPerSecond: 1 });
await stack.start();
const meter = await PgCostMeter.open(stack);
const { api, worker } = meter;
try {
  const [tenant] = await stack.tenants(1);
  await stack.db.raw(SCHEMA);
  const tenantId = (tenant as { tenantId: string }).tenantId;

  // The same result and inline path artefact batch-pg-cost.ts writes for each job.
  const path = Array.from({ length: 15 }, (_, i) => (i < 8 ? [i, 0] : [7, i - 7]));
  const result = { reachable: true, length: 14, visited: 64, path, artefacts: { path: 'inline' } };
  const inline = { path: { meta: { dtype: '<u4', shape: [15], fortranOrder: false }, size: 188 } };
  const summary = { reachable: true, length: 14 };
  const distinct = () => ({ path: { ...inline.path, sha256: randomBytes(32).toString('hex'), data: randomBytes(60).toString('base64') } });

  const round = async (measured: boolean) => {
    const batchId = randomUUID();
    const chunks = Array.from({ length: BATCH / CHUNK }, (_, n) => ({
      n,
      params: Array.from({ length: CHUNK }, (_, i) => ({ start: [0, 0], end: [7, (n * CHUNK + i) % 8] })),
    }));
    const submit = () =>
      withTenant(api, tenantId, async (trx) => {
        await insertBatch(trx, { id: batchId, tenantId, total: BATCH, labels: {}, idempotencyKey: null, requestHash: null });
        await trx.raw(
          `insert into bench_job_chunks (tenant_id, batch_id, n, first_index, type, lattice, params, statuses)
           select ?, ?, c.n, c.n * ?, 'shortest_path', ?::jsonb, c.params, array_fill(0::smallint, array[?::int])
             from unnest(?::int[], ?::jsonb[]) as c(n, params)`,
          [tenantId, batchId, CHUNK, JSON.stringify({ shape: [8, 8], boundary: 'open' }), CHUNK, chunks.map((c) => c.n), chunks.map((c) => JSON.stringify(c.params))],
        );
        await recordUsage(trx, tenantId, USAGE_METRICS.computeUnits, BATCH);
      });
    const finish = async () => {
      for (const chunk of chunks) {
        const taken = await worker.transaction(async (trx) => {
          await trx.raw(`set local synchronous_commit = off`);
          return (
            (await trx.raw(
              `update bench_job_chunks set attempts = attempts + 1, worker_id = 'bench', started_at = now()
                where batch_id = ? and n = ? and tenant_id = ? returning attempts, params, lattice, statuses`,
              [batchId, chunk.n, tenantId],
            )) as { rows: Array<{ attempts: number; params: unknown[] }> }
          ).rows[0];
        });
        if (!taken || taken.params.length !== CHUNK) throw new Error('chunk not taken');
        // Each job's own path bytes and digest (a sweep's jobs differ): identical results would
        // compress a hundredfold in the chunk's one TOASTed value and flatter this storage.
        const results = taken.params.map(() => ({ status: 'completed', attempt: taken.attempts, run_ms: 1, result, summary, inline: distinct() }));
        await worker.transaction(async (trx) => {
          const { rowCount } = (await trx.raw(
            `update bench_job_chunks set statuses = array_fill(2::smallint, array[?::int]), results = ?::${RESULTS_TYPE}, finished_at = now()
              where batch_id = ? and n = ? and tenant_id = ? and attempts = ?`,
            [CHUNK, JSON.stringify(results), batchId, chunk.n, tenantId, taken.attempts],
          )) as { rowCount: number };
          if (rowCount !== 1) throw new Error('chunk not ended');
          await trx.raw(
            `update batches set unfinished = unfinished - ?, completed_at = case when unfinished = ? then clock_timestamp() else completed_at end where id = ?`,
            [CHUNK, CHUNK, batchId],
          );
        });
      }
    };
    await meter.round(measured, submit, finish);
  };
  await round(false);
  await stack.db.raw('checkpoint');
  for (let r = 0; r < ROUNDS; r++) await round(true);
  const [batch] = (await stack.db('batches').whereNotNull('completed_at').count({ n: '*' })) as Array<{ n: string }>;
  if (Number(batch?.n) !== ROUNDS + 1) throw new Error(`${batch?.n} batches completed, not ${ROUNDS + 1}`);
  const n = ROUNDS * BATCH;
  process.stdout.write(
    `${JSON.stringify(
      {
        storage: 'a row per chunk of 100 jobs (sketch)',
        results_column: `${RESULTS_TYPE}, ${COMPRESSION}`,
        load_average: loadavg().map((l) => Math.round(l * 100) / 100),
        rounds: ROUNDS,
        jobs: n,
        ...meter.perJob(n),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await meter.close();
  await stack.stop();
}
