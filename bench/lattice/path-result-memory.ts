/**
 * Memory a long path costs a worker, from the kernel run to the result's JSON sent to PostgreSQL:
 * the pool's run (as the job runner asks for it), the `path` artefact's uint32 rows, the result's
 * JSON text (as the final-state write builds it) and one query carrying that text. Each case runs
 * in a child process of its own (`--expose-gc`), in this checkout and, given another checkout's
 * directory, in that one too, alternating which goes first. Per case it prints one JSON line:
 * the job's reservation, the memory the result holds after the run (after a full GC: heap and
 * array buffers), the heap + array buffers at the write's fullest point (no GC in between), and
 * the process's peak RSS over the whole job above its RSS before it.
 *
 *   node --import tsx bench/lattice/path-result-memory.ts [OTHER_CHECKOUT_DIR]
 *
 * Needs PostgreSQL at DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Case {
  name: string;
  type: 'shortest_path' | 'min_cost_path';
  shape: number[];
  /** 'serpentine' (test/support/serpentine-map.ts) or a random density. */
  obstacles: 'serpentine' | { density: number; seed: number };
  params: Record<string, unknown>;
}

const CASES: Case[] = [
  { name: '2-D 2000² density 0.4', type: 'shortest_path', shape: [2000, 2000], obstacles: { density: 0.4, seed: 1 }, params: { start: [0, 0], end: [1999, 1999] } },
  { name: '2-D serpentine 1997×1000', type: 'shortest_path', shape: [1997, 1000], obstacles: 'serpentine', params: { start: [0, 0], end: [1996, 999] } },
  { name: '3-D serpentine 65×129×257', type: 'shortest_path', shape: [65, 129, 257], obstacles: 'serpentine', params: { start: [0, 0, 0], end: [64, 128, 256] } },
  {
    name: '2-D serpentine 1997×1000, two pairs',
    type: 'shortest_path',
    shape: [1997, 1000],
    obstacles: 'serpentine',
    params: { pairs: [{ start: [0, 0], end: [998, 999] }, { start: [998, 999], end: [1996, 999] }] },
  },
  { name: 'min_cost_path 2-D serpentine 1997×1000', type: 'min_cost_path', shape: [1997, 1000], obstacles: 'serpentine', params: { start: [0, 0], end: [1996, 999], costs: { max: 9, seed: 3 } } },
  { name: 'min_cost_path 3-D serpentine 65×129×257', type: 'min_cost_path', shape: [65, 129, 257], obstacles: 'serpentine', params: { start: [0, 0, 0], end: [64, 128, 256], costs: { max: 9, seed: 3 } } },
];

const MAP_ID = '00000000-0000-0000-0000-000000000000';
const here = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, JSON.parse(process.argv[4]!) as Case);
} else {
  const own = resolve('.');
  const other = process.argv[2] ? resolve(process.argv[2]) : undefined;
  for (const [k, c] of CASES.entries()) {
    const order = other === undefined ? [own] : k % 2 === 0 ? [other, own] : [own, other];
    for (const checkout of order) {
      const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', here, '--child', checkout, JSON.stringify(c)], { encoding: 'utf8', maxBuffer: 2 ** 24 });
      if (run.status !== 0) throw new Error(`${c.name} in ${checkout} failed: ${run.stderr}`);
      const line = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
      console.log(JSON.stringify({ case: c.name, checkout: checkout === own ? 'this' : checkout, ...line, load: Number((loadavg()[0] ?? 0).toFixed(1)) }));
    }
  }
}

async function child(checkout: string, c: Case): Promise<void> {
  const root = pathToFileURL(checkout).href;
  type Any = Record<string, (...args: unknown[]) => unknown>;
  const load = async (path: string): Promise<Any | undefined> => {
    try {
      return (await import(`${root}/${path}`)) as Any;
    } catch {
      return undefined;
    }
  };
  const { KernelPool } = (await import(`${root}/worker/kernels/kernel-pool.ts`)) as {
    KernelPool: new (options: object) => { start(): Promise<void>; close(): Promise<void>; run(t: string, s: unknown, p: unknown, o: object): Promise<Record<string, unknown>> };
  };
  const { jobReservation } = (await load('shared/jobs/job-memory.ts'))! as unknown as { jobReservation: (t: string, s: unknown, p: unknown, n: number) => number };
  const resultJson = await load('shared/jobs/result-json.ts');
  const stringify = (resultJson?.['stringifyWithPaths'] as ((v: unknown) => string) | undefined) ?? JSON.stringify;
  const { serpentineMap } = await import('../../test/support/serpentine-map.ts');
  const pg = (await import('pg')).default;

  const serpentine = c.obstacles === 'serpentine';
  const spec = { shape: c.shape, obstacles: serpentine ? { map: MAP_ID } : c.obstacles };
  const map = serpentine ? serpentineMap(c.shape) : undefined;
  const pool = new KernelPool({ threads: 1 });
  await pool.start();
  const client = new pg.Client({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  await client.query('select 1');
  const gc = (globalThis as { gc?: () => void }).gc!;
  const live = (): number => {
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  gc();
  const before = { rss: process.memoryUsage().rss, live: live() };

  const started = performance.now();
  let result = await pool.run(c.type, spec, c.params, { ...(map ? { obstacleMap: map } : {}), pathCells: true });
  const run_ms = performance.now() - started;
  const paths = [result['path'], ...((result['pairs'] as Array<Record<string, unknown>> | undefined) ?? []).map((pair) => pair['path'])] as Array<{ length: number }>;
  const pathCells = paths.reduce((sum, path) => sum + path.length, 0);
  let fullest = live();
  gc();
  const held = live() - before.live;

  // The `path` artefact's rows, as worker/job-artefacts.ts makes them.
  const path = result['path'] as { coordinateRows?: () => Uint32Array } | number[][];
  let rows: Uint32Array | undefined;
  if (c.type === 'shortest_path' && pathCells > 0 && !Array.isArray(result['pairs'])) {
    if (Array.isArray(path)) {
      const d = path[0]?.length ?? 0;
      rows = new Uint32Array(path.length * d);
      path.forEach((cell, k) => rows!.set(cell, k * d));
    } else rows = path.coordinateRows!();
  }
  fullest = Math.max(fullest, live());
  // The final-state write's JSON: the group commit's input array around the result.
  const text = stringify([{ id: MAP_ID, status: 'completed', result: { ...result, artefacts: { stored: true } } }]);
  fullest = Math.max(fullest, live());
  const sent = await client.query<{ n: number }>('select octet_length($1::text) as n', [text]);
  fullest = Math.max(fullest, live());
  const peakRss = process.resourceUsage().maxRSS * 1024 - before.rss;
  const textBytes = text.length;
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  result = {};
  void rows;
  await client.end();
  await pool.close();
  console.log(
    JSON.stringify({
      type: c.type,
      path_cells: pathCells,
      run_ms: Math.round(run_ms),
      reserved_bytes: jobReservation(c.type, spec, c.params, 1),
      result_held_bytes: held,
      write_fullest_bytes: fullest - before.live,
      peak_rss_growth_bytes: peakRss,
      json_bytes: textBytes,
      json_sha256: digest,
      sent_bytes: Number(sent.rows[0]!.n),
      held_per_cell: pathCells > 0 ? Number((held / pathCells).toFixed(1)) : null,
      fullest_per_cell: pathCells > 0 ? Number(((fullest - before.live) / pathCells).toFixed(1)) : null,
    }),
  );
}
