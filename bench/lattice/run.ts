/**
 * `npm run bench:lattice [-- --quick] [-- --out FILE]`: this engine side by side with
 * graphology and python-igraph on the same lattices and ends, then kernel throughput. Each
 * measurement runs in its own process; the report is JSON on stdout (progress on stderr).
 *
 * --quick skips the 10^9-cell lattice and graphology beyond 10^5 cells, and repeats less.
 * --huge-bfs also runs the bidirectional BFS alone on the 10^9-cell lattice (minutes: it visits
 * most of the billion cells, where the default method needs a few thousand).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineJob } from './engine-child.ts';
import type { GraphologyJob } from './graphology-child.ts';
import { DENSITY, PATH_CASES, SEED, THROUGHPUT_CASES, writeBlockedIndices } from './lattices.ts';
import type { PathCase } from './lattices.ts';
import { round } from './measure.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const hugeBfs = args.includes('--huge-bfs');
const outAt = args.indexOf('--out');
const outFile = outAt >= 0 ? args[outAt + 1] : undefined;
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const PYTHON = '/usr/bin/python3';
/** graphology keeps about 1.5 kB per node here: past this many cells it needs gigabytes and minutes. */
const GRAPHOLOGY_MAX_CELLS = quick ? 100_000 : 1_000_000;
/** Beyond this, igraph's lattice (tens of bytes per edge) would need more than this machine has. */
const IGRAPH_MAX_CELLS = 10_000_000;
const CHILD_TIMEOUT_MS = 10 * 60_000;
/** The bidirectional BFS over 10^9 cells takes minutes on an idle machine, many more on a busy one. */
const HUGE_CHILD_TIMEOUT_MS = 60 * 60_000;
const POOL_THREADS = Math.min(2, availableParallelism());

type Measurement = Record<string, unknown>;

function log(message: string): void {
  process.stderr.write(`[bench:lattice] ${message}\n`);
}

/** Runs a child process that prints one JSON line; a failure becomes `{error}`. */
function child(command: string, argv: string[], label: string, timeout = CHILD_TIMEOUT_MS): Measurement {
  log(`${label} …`);
  const started = performance.now();
  const run = spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 64 << 20, timeout });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (run.error || run.status !== 0) {
    const reason = run.error?.message ?? `exit ${run.status}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    log(`${label} failed after ${seconds} s: ${reason}`);
    return { error: reason };
  }
  const line = run.stdout.trim().split('\n').pop() ?? '{}';
  log(`${label} done in ${seconds} s`);
  return JSON.parse(line) as Measurement;
}

function engine(job: EngineJob, label: string, timeout = CHILD_TIMEOUT_MS): Measurement {
  const argv = ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', here('./engine-child.ts'), JSON.stringify(job)];
  return child(process.execPath, argv, label, timeout);
}

function igraphAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import igraph'], { encoding: 'utf8' }).status === 0;
}

function pathWarmup(pathCase: PathCase): EngineJob['warmup'] {
  const side = Math.max(2, Math.min(pathCase.side, Math.round(20_000 ** (1 / pathCase.dimensions))));
  return {
    spec: { dimensions: pathCase.dimensions, size: side, obstacles: { density: DENSITY, seed: SEED + 1 } },
    params: { start: new Array(pathCase.dimensions).fill(0), end: new Array(pathCase.dimensions).fill(side - 1) },
  };
}

function ratio(peer: unknown, ours: unknown): number | null {
  return typeof peer === 'number' && typeof ours === 'number' && ours > 0 ? round(peer / ours, 3) : null;
}

function compare(ours: Measurement, peer: Measurement): Measurement | null {
  if ('skipped' in peer || 'error' in peer) return null;
  return {
    e2e: ratio(peer['e2e_ms'], ours['e2e_ms']),
    cpu: ratio(peer['cpu_ms'], ours['cpu_ms']),
    search: ratio(peer['search_ms'], ours['search_ms']),
    // Peer peak RSS against the bytes this engine's kernel allocated (its RSS delta is below
    // what RSS can resolve on the small lattices), and RSS against RSS.
    memory: ratio(peer['rss_delta_bytes'], ours['bytes_allocated']),
    memory_rss_vs_rss: ratio(peer['rss_delta_bytes'], Math.max(4096, Number(ours['rss_delta_bytes']))),
    allocated_vs_allocated: ratio(peer['bytes_allocated'], ours['bytes_allocated']),
  };
}

function pathBenchmark(pathCase: PathCase, workDir: string, hasIgraph: boolean): Measurement {
  const repeats = pathCase.huge ? 1 : quick ? 9 : 21;
  const base = { type: 'shortest_path' as const, spec: pathCase.spec, params: { start: pathCase.start, end: pathCase.end }, poolThreads: POOL_THREADS };
  const warmup = pathCase.huge ? null : pathWarmup(pathCase);
  const catalytic = engine({ ...base, options: { strategy: 'auto' }, repeats, warmup, warmupRuns: pathCase.huge ? 1 : 10 }, `${pathCase.name}: catalytic`);
  const catalyticBfs =
    pathCase.huge && !hugeBfs
      ? { skipped: 'visits most of the 10^9 cells (minutes); run with --huge-bfs' }
      : engine(
          { ...base, options: { strategy: 'bfs' }, repeats: pathCase.huge ? 1 : quick ? 3 : 5, warmup, warmupRuns: pathCase.huge ? 0 : 1 },
          `${pathCase.name}: catalytic, bidirectional BFS only`,
          pathCase.huge ? HUGE_CHILD_TIMEOUT_MS : CHILD_TIMEOUT_MS,
        );

  let igraph: Measurement;
  if (!hasIgraph) igraph = { skipped: 'python3-igraph not installed' };
  else if (pathCase.cells > IGRAPH_MAX_CELLS) igraph = { skipped: `${pathCase.cells} vertices: igraph's lattice would need far more than this machine's memory` };
  else {
    const file = join(workDir, `blocked-${pathCase.dimensions}-${pathCase.side}.u32`);
    writeBlockedIndices(pathCase, file);
    const job = { shape: new Array(pathCase.dimensions).fill(pathCase.side), start: pathCase.start, end: pathCase.end };
    igraph = child(PYTHON, [here('./igraph_peer.py'), JSON.stringify(job), file], `${pathCase.name}: igraph`);
  }

  let graphology: Measurement;
  if (pathCase.cells > GRAPHOLOGY_MAX_CELLS) {
    graphology = {
      skipped: pathCase.huge
        ? `${pathCase.cells} nodes: about 1.5 kB per node would be terabytes`
        : `${pathCase.cells} nodes: about 1.5 kB per node would be ${round((pathCase.cells * 1.5e3) / 2 ** 30, 2)} GiB and minutes to build${quick ? ' (--quick)' : ''}`,
    };
  } else {
    const job: GraphologyJob = { shape: new Array(pathCase.dimensions).fill(pathCase.side), density: DENSITY, seed: SEED, start: pathCase.start, end: pathCase.end };
    const argv = ['--expose-gc', '--max-old-space-size=16384', '--import', 'tsx', here('./graphology-child.ts'), JSON.stringify(job)];
    graphology = child(process.execPath, argv, `${pathCase.name}: graphology`);
  }

  const lengths = [catalytic, catalyticBfs, igraph, graphology]
    .filter((m) => !('skipped' in m) && !('error' in m))
    .map((m) => m['length']);
  return {
    lattice: pathCase.name,
    cells: pathCase.cells,
    start: pathCase.start,
    end: pathCase.end,
    catalytic,
    catalytic_bfs_only: catalyticBfs,
    igraph,
    graphology,
    lengths_agree: lengths.every((length) => length === lengths[0]),
    ratios: {
      catalytic_vs_igraph: compare(catalytic, igraph),
      catalytic_vs_graphology: compare(catalytic, graphology),
      bfs_only_vs_igraph: compare(catalyticBfs, igraph),
      bfs_only_vs_graphology: compare(catalyticBfs, graphology),
    },
  };
}

function throughput(): Measurement {
  const out: Measurement = {};
  const repeats = quick ? 2 : 3;
  for (const threads of [1, 2]) {
    const components = THROUGHPUT_CASES.components;
    const c = engine(
      { type: 'components', spec: components.spec, params: {}, options: { threads }, repeats, poolThreads: POOL_THREADS, warmup: { spec: { dimensions: 3, size: 32 }, params: {} }, warmupRuns: 0 },
      `components ${components.name}, ${threads} thread(s)`,
    );
    const cells = 256 ** 3;
    out[`components_${threads}_thread`] = {
      lattice: components.name,
      ...c,
      cells_per_second: typeof c['e2e_ms'] === 'number' ? round(cells / (c['e2e_ms'] / 1000), 3) : null,
      cells_per_cpu_second: typeof c['cpu_ms'] === 'number' ? round(cells / (c['cpu_ms'] / 1000), 3) : null,
    };
    const diffusion = THROUGHPUT_CASES.diffusion;
    const warm = { spec: { dimensions: 3, size: 32 }, params: { steps: 5, alpha: 0.15 } };
    const f = engine(
      { type: 'diffusion', spec: diffusion.spec, params: diffusion.params, options: { threads }, repeats, poolThreads: POOL_THREADS, warmup: warm, warmupRuns: 0 },
      `diffusion ${diffusion.name}, ${threads} thread(s)`,
    );
    const cellSteps = 128 ** 3 * diffusion.params.steps;
    out[`diffusion_${threads}_thread`] = {
      lattice: diffusion.name,
      ...f,
      cell_steps_per_second: typeof f['e2e_ms'] === 'number' ? round(cellSteps / (f['e2e_ms'] / 1000), 3) : null,
      cell_steps_per_cpu_second: typeof f['cpu_ms'] === 'number' ? round(cellSteps / (f['cpu_ms'] / 1000), 3) : null,
    };
  }
  return out;
}

function targets(results: Measurement[]): Measurement {
  const small = results.filter((r) => r['cells'] === 100_000 || r['cells'] === 1_000_000);
  const met = (key: string, peer: string, min: number): boolean | null => {
    const values = small.map((r) => ((r['ratios'] as Record<string, Measurement | null>)[peer] ?? {})[key]);
    if (values.some((v) => typeof v !== 'number')) return null;
    return values.every((v) => (v as number) >= min);
  };
  const huge = results.find((r) => (r['cells'] as number) >= 1e9);
  const bits = (m: unknown): number | null => {
    const value = (m as Measurement | undefined)?.['bits_per_cell'];
    return typeof value === 'number' ? value : null;
  };
  return {
    e2e_100x_igraph: met('e2e', 'catalytic_vs_igraph', 100),
    e2e_1000x_graphology: met('e2e', 'catalytic_vs_graphology', 1000),
    memory_1000x_igraph: met('memory', 'catalytic_vs_igraph', 1000),
    memory_10000x_graphology: met('memory', 'catalytic_vs_graphology', 10000),
    bfs_only_e2e_100x_igraph: met('e2e', 'bfs_only_vs_igraph', 100),
    bfs_only_memory_1000x_igraph: met('memory', 'bfs_only_vs_igraph', 1000),
    huge_bits_per_cell: huge
      ? {
          catalytic: bits(huge['catalytic']),
          bfs_only: bits(huge['catalytic_bfs_only']),
          at_most_4: [bits(huge['catalytic']), bits(huge['catalytic_bfs_only'])].every((b) => b === null || b <= 4),
        }
      : null,
    note: 'null = not measured (skipped). Targets apply to 5-D side 10 and 3-D side 100.',
  };
}

const workDir = mkdtempSync(join(tmpdir(), 'bench-lattice-'));
try {
  const started = performance.now();
  const hasIgraph = igraphAvailable();
  const cases = PATH_CASES.filter((c) => !(quick && c.huge));
  const shortestPath = cases.map((c) => pathBenchmark(c, workDir, hasIgraph));
  const report = {
    command: `npm run bench:lattice${quick || hugeBfs ? ` -- ${args.filter((a) => a.startsWith('--') && a !== '--out').join(' ')}` : ''}`,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      memory_gib: round(totalmem() / 2 ** 30, 3),
      node: process.version,
      load_average_at_start: loadavg().map((l) => round(l, 3)),
    },
    settings: { density: DENSITY, seed: SEED, ends: 'corner to corner', pool_threads: POOL_THREADS, quick, huge_bfs: hugeBfs },
    notes: [
      'e2e = build + search as each engine does it: for Catalytic one pool.run (validation, obstacles, search, path), wall clock in the caller; for igraph Graph.Lattice + delete_vertices + get_shortest_paths (blocked list precomputed and not timed); for graphology building the graph + bidirectional().',
      'catalytic answers with the lower-bound dive when a path as short as the Manhattan bound exists, else bidirectional BFS; catalytic_bfs_only forces the bidirectional BFS.',
      'memory ratio = peer peak RSS delta / bytes Catalytic allocated; memory_rss_vs_rss uses Catalytic\'s own RSS delta (floored at one page).',
      'Each engine runs in its own process; Catalytic\'s timings are medians of the repeats (e2e_ms_runs lists them) after warm-up runs on a smaller lattice and on the job itself, as in a long-lived worker; peers run once.',
      'cpu_ms is the CPU time of all the process\'s threads over the same span: on a machine other work also loads, wall time includes waiting for a core and cpu_ms does not.',
    ],
    shortest_path: shortestPath,
    throughput: throughput(),
    targets: targets(shortestPath),
    total_seconds: 0,
  };
  report.total_seconds = round((performance.now() - started) / 1000, 3);
  const json = JSON.stringify(report, null, 2);
  if (outFile) writeFileSync(outFile, `${json}\n`);
  process.stdout.write(`${json}\n`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
