/**
 * A result's summary (migration 0027): the writer works it out (shared/jobs/job-body.ts)
 * instead of PostgreSQL's `job_result_summary`, so the two must agree on every result; an insert
 * that gives none still gets PostgreSQL's; and the final writes store the writer's.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CellPath } from '../../shared/lattice/cell-path.ts';
import { resultSummary } from '../../shared/jobs/job-body.ts';
import { stringifyWithPaths } from '../../shared/jobs/result-json.ts';
import { finishAttempts, finishJob } from '../../shared/jobs/transitions.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
});

/** A pseudo-random generator, seeded, so a failure can be replayed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A random result: scalars of every JSON kind, lists, objects, nested ones, and odd keys. */
function randomResult(random: () => number): Record<string, unknown> {
  const scalar = (): unknown => {
    const pick = Math.floor(random() * 6);
    if (pick === 0) return null;
    if (pick === 1) return random() < 0.5;
    if (pick === 2) return Math.floor(random() * 1e6) - 5e5;
    if (pick === 3) return random() * 1e3;
    if (pick === 4) return `s${Math.floor(random() * 100)}\u00e9"\\`;
    return '';
  };
  const value = (depth: number): unknown => {
    const pick = Math.floor(random() * 4);
    if (depth > 1 || pick === 0) return scalar();
    if (pick === 1) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
    if (pick === 2) return Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, (_, i) => [`k${i}`, value(depth + 1)]));
    return scalar();
  };
  const result: Record<string, unknown> = {};
  const keys = Math.floor(random() * 8);
  for (let i = 0; i < keys; i++) result[random() < 0.1 ? `key ${i} ü` : `k${i}`] = value(0);
  return result;
}

async function sqlSummary(result: Record<string, unknown>): Promise<unknown> {
  const { rows } = (await env.db.raw('select job_result_summary(?::jsonb) as s', [stringifyWithPaths(result)])) as { rows: Array<{ s: unknown }> };
  return rows[0]?.s;
}

async function newJob(): Promise<string> {
  const id = randomUUID();
  await env.db('jobs').insert({ id, tenant_id: tenant.tenantId, type: 'shortest_path', status: 'running', attempts: 1, lattice: { shape: [4, 4] }, cells: 16 });
  return id;
}

describe('result summaries', () => {
  it("the writer's equals job_result_summary on random results", async () => {
    const random = generator(20261206);
    for (let n = 0; n < 300; n++) {
      const result = randomResult(random);
      expect(resultSummary(result), JSON.stringify(result)).toEqual(await sqlSummary(result));
    }
  });

  it('leaves out cell paths and counts what toJSON writes, as the stored JSON does', async () => {
    const result = { reachable: true, length: 2, path: new CellPath(Uint32Array.of(0, 1, 5), [4, 4]), histogram: { toJSON: () => 7 }, gone: undefined, worst: Number.NaN };
    expect(resultSummary(result)).toEqual({ reachable: true, length: 2, histogram: 7, worst: null });
    expect(resultSummary(result)).toEqual(await sqlSummary(result));
  });

  it('never writes a cell path out to leave it out (no array per cell)', () => {
    const path = new CellPath(Uint32Array.of(0, 1, 5), [4, 4]);
    path.coordinates = () => {
      throw new Error('a path written out for the summary');
    };
    expect(resultSummary({ length: 2, path })).toEqual({ length: 2 });
  });

  it('an insert that gives no summary gets the one PostgreSQL works out', async () => {
    const jobId = await newJob();
    const result = { clusters: 3, sizes: [1, 2], label: 'x' };
    await env.db('job_results').insert({ job_id: jobId, tenant_id: tenant.tenantId, result });
    const row = (await env.db('job_results').where({ job_id: jobId }).first('summary')) as { summary: unknown };
    expect(row.summary).toEqual({ clusters: 3, label: 'x' });
  });

  it('the final writes store the summary of the result they store', async () => {
    const [one, two] = [await newJob(), await newJob()];
    const results = [randomResult(generator(1)), { reachable: false, length: null, path: [] }];
    await env.db.transaction((trx) => finishJob(trx, { tenantId: tenant.tenantId, jobId: one, status: 'completed', from: ['running'], result: results[0] }));
    await env.db.transaction((trx) =>
      finishAttempts(trx, [{ tenantId: tenant.tenantId, jobId: two, attempt: 1, status: 'completed', result: results[1] }]),
    );
    for (const [jobId, result] of [[one, results[0]], [two, results[1]]] as const) {
      const row = (await env.db('job_results').where({ job_id: jobId }).first('summary')) as { summary: unknown };
      expect(row.summary).toEqual(await sqlSummary(result as Record<string, unknown>));
    }
  });
});
