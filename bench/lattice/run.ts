/**
 * `npm run bench:lattice [-- --quick] [-- --out FILE] [-- --huge-bfs] [-- --no-api | --api-only | --fields-only | --connectivity-only]`:
 * the lattice engine beside the tools its users would otherwise reach for, on the same lattices,
 * in one run. Shortest paths beside python-igraph, graphology and scikit-image's MCP; components
 * beside scipy.ndimage.label; diffusion beside a numpy stencil with the engine's semantics; each
 * kernel with 1 and 2 threads on ≥ 10^7 cells; then the same jobs through the real API (best
 * `run_ms`). Every ratio is printed with its target beside it, and the answers are checked
 * against every peer that ran. Each measurement runs in its own process; the report is JSON on
 * stdout (progress and the verdicts on stderr).
 *
 * --quick: smaller lattices (the targets are for the full sizes), fewer repeats, no 10^9 cells.
 * --huge-bfs: also the bidirectional BFS alone on the 10^9-cell lattice (minutes).
 * --no-api skips the timings through the API; --api-only runs only them; --small-jobs only the
 * tiny job through the API, 30 times (what the pipeline around a kernel of microseconds costs).
 * --threads-only: only the 2-threads ÷ 1-thread scaling rows (no peers, no API); with
 *   --kernel NAME (repeatable) only those kernels' rows.
 * --threads-alternate: the scaling rows run 1 and 2 threads in turn in one pool, rather than each
 *   count in a process of its own.
 * --no-run-probe: the scaling rows' children skip the probe they otherwise run after their measured
 *   runs, a round per run (machine-probe.ts: memory stream and ALU, one thread then two;
 *   `machine_during` in the JSON).
 * --compiled-threads: the in-process pools' kernel threads load the compiled thread the tests use
 *   (test/support/catalytic-bundle.ts) instead of the source entry through tsx, which `npm start`
 *   runs and the bench measures by default (docs/performance.md › Components, 2 ÷ 1 threads
 *   measured alternating).
 * --fields-only: only distance_field and min_cost_path beside scikit-image's MCP, percolation beside
 * repeated components runs (field-benchmarks.ts), and the full connectivity beside scipy and MCP
 * (connectivity-benchmarks.ts); --connectivity-only: that last part alone.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { DiffusionParamsInput } from '../../shared/lattice/types.ts';
import { apiPollMode, apiTimings, type ApiCase, type ApiTiming } from './api-runs.ts';
import { buildCatalyticBundle } from '../../test/support/catalytic-bundle.ts';
import { answered, coreScaling, engine, graphology, gridPeer, igraph, log, type Measurement, pythonModules, useKernelThread } from './children.ts';
import type { EngineJob } from './engine-child.ts';
import type { ProbeRound } from './machine-probe.ts';
import {
  blockedMask,
  DENSITY,
  easyPath,
  HARD_DENSITY_2D,
  HARD_DENSITY_3D,
  hardPath,
  indexOf,
  latticeCase,
  type LatticeCase,
  type PathCase,
  SEED,
  writeBlockedIndices,
  writeMask,
} from './lattices.ts';
import { fullConnectivityBenchmarks } from './connectivity-benchmarks.ts';
import { distanceFieldBenchmarks, minCostPathBenchmarks, percolationBenchmarks } from './field-benchmarks.ts';
import { median, round } from './measure.ts';
import { ratio, Verdicts } from './report.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const hugeBfs = args.includes('--huge-bfs');
const withApi = !args.includes('--no-api') && !args.includes('--fields-only') && !args.includes('--connectivity-only') && !args.includes('--threads-only');
const smallJobs = args.includes('--small-jobs');
const connectivityOnly = args.includes('--connectivity-only');
const fieldsOnly = args.includes('--fields-only') || connectivityOnly;
const threadsOnly = args.includes('--threads-only');
const onlyKernels = args.flatMap((arg, i) => (arg === '--kernel' && args[i + 1] ? [args[i + 1]!] : []));
const apiOnly = args.includes('--api-only') || smallJobs || fieldsOnly;
const compiledThreads = args.includes('--compiled-threads');
const threadsAlternate = args.includes('--threads-alternate');
const runProbe = !args.includes('--no-run-probe');
const outAt = args.indexOf('--out');
const outFile = outAt >= 0 ? args[outAt + 1] : undefined;
const POOL_THREADS = Math.min(2, availableParallelism());
/** graphology keeps about 1.5 kB per node here: past this many cells it needs gigabytes and minutes. */
const GRAPHOLOGY_MAX_CELLS = quick ? 100_000 : 1_000_000;
/** Beyond this, igraph's lattice (tens of bytes per edge) would need more than this machine has. */
const IGRAPH_MAX_CELLS = 10_000_000;
const HUGE_CHILD_TIMEOUT_MS = 60 * 60_000;
const PEER_REPEATS = 3;

/** Lattice sides: the issue's sizes, or about a sixteenth of the cells with --quick. */
const SIDES = quick
  ? { hard2d: 500, hard3d: 64, components: 100, diffusion: 64, periodic: 256, threads2d: 1448, threads3d: 128 }
  : { hard2d: 2000, hard3d: 159, components: 200, diffusion: 159, periodic: 1024, threads2d: 3200, threads3d: 216 };
const DIFFUSION_STEPS = 40;
/**
 * Unmeasured runs of each scaling job (each thread count) before the measured rounds: a worker runs job after job,
 * and in a fresh process the first runs of a lattice this size still grow the kernel threads' heaps
 * and fault in pages (docs/performance.md › Two threads ÷ one thread on 10^7 cells).
 */
const THREADS_WARMUP_RUNS = 3;
/**
 * Measured runs of each scaling row's thread count, after its warm-up (or, with
 * --threads-alternate, rounds of one run with 1 thread and one with 2 in one pool); the rows are
 * medians over every run (docs/performance.md › Components, 2 ÷ 1 threads measured alternating).
 */
const THREADS_ROUNDS = quick ? 3 : 11;
/**
 * Without --threads-alternate, each count's measured runs are split over this many blocks, the
 * counts' processes taking turns block by block (1, 2, then 2, 1, …), with the machine's own 2 ÷ 1
 * (core-scaling.ts) taken between them: the host's phases of seconds, which on these VMs move one
 * and the same run 1.6×, then fall on both counts instead of on one (docs/performance.md › Two
 * threads ÷ one in blocks, beside the machine's own).
 */
const THREADS_BLOCKS = quick ? 1 : 3;
/** The core probe's loop length: ~0.3 s for one thread on the 2.6 GHz EPYC. */
const CORE_PROBE_ITERATIONS = 3e8;
const THREADS_DIFFUSION_STEPS = 10;

const cube = (dimensions: number, side: number): number[] => new Array<number>(dimensions).fill(side);
const verdicts = new Verdicts();
const workDir = mkdtempSync(join(tmpdir(), 'bench-lattice-'));
const python = pythonModules();
const skipped = (module: string): Measurement => ({ skipped: `python3-${module} not installed` });

function maskFile(name: string, mask: Uint8Array): string {
  const file = join(workDir, `${name.replace(/[^\w-]+/g, '_')}.mask`);
  writeMask(mask, file);
  return file;
}

function repeatsFor(cells: number): number {
  if (cells >= 1_000_000) return quick ? 3 : 5;
  return quick ? 9 : 21;
}

function warmupFor(lattice: LatticeCase, type: EngineJob['type'], params: (side: number, d: number) => unknown): EngineJob['warmup'] {
  const d = lattice.shape.length;
  const side = Math.max(2, Math.min(lattice.shape[0]!, Math.round(20_000 ** (1 / d))));
  const density = lattice.spec.obstacles.density;
  return { spec: { shape: cube(d, side), boundary: lattice.boundary, obstacles: { density, seed: SEED + 1 } }, params: params(side, d) };
}

const pathParams = (c: PathCase) => ({ start: c.start, end: c.end });
const cornerParams = (side: number, d: number) => ({ start: cube(d, 0), end: cube(d, side - 1) });

// ---------------------------------------------------------------------------------------------
// Shortest paths

function pathBenchmark(c: PathCase, mask: Uint8Array | null): Measurement {
  const repeats = c.kind === 'huge' ? 1 : repeatsFor(c.cells);
  const base = { type: 'shortest_path' as const, spec: c.spec, params: pathParams(c), poolThreads: POOL_THREADS };
  const warmup = c.kind === 'huge' ? null : warmupFor(c, 'shortest_path', cornerParams);
  const catalytic = engine({ ...base, options: { strategy: 'auto' }, repeats, warmup, warmupRuns: c.kind === 'huge' ? 1 : c.cells >= 1e6 ? 1 : 10 }, `${c.name}: catalytic`);
  let catalyticBfs: Measurement;
  if (c.kind === 'hard') catalyticBfs = { skipped: 'no Manhattan-length path: the default method is the BFS already' };
  else if (c.kind === 'huge' && !hugeBfs) catalyticBfs = { skipped: 'visits most of the 10^9 cells (minutes); run with --huge-bfs' };
  else {
    catalyticBfs = engine(
      { ...base, options: { strategy: 'bfs' }, repeats: c.kind === 'huge' ? 1 : quick ? 3 : 5, warmup, warmupRuns: c.kind === 'huge' ? 0 : 1 },
      `${c.name}: catalytic, bidirectional BFS only`,
      c.kind === 'huge' ? HUGE_CHILD_TIMEOUT_MS : undefined,
    );
  }

  const peerJob = { shape: c.shape, start: c.start, end: c.end, repeats: c.cells >= 1e6 && quick ? 1 : PEER_REPEATS };
  let igraphRun: Measurement;
  let mcp: Measurement;
  if (!mask) {
    igraphRun = { skipped: `${c.cells} vertices: igraph's lattice would need far more than this machine's memory` };
    mcp = { skipped: `${c.cells} cells: MCP's float64 costs and int64 traceback arrays would need far more than this machine's memory` };
  } else {
    if (!python.igraph) igraphRun = skipped('igraph');
    else if (c.cells > IGRAPH_MAX_CELLS) igraphRun = { skipped: `${c.cells} vertices: igraph's lattice would need more than this machine's memory` };
    else {
      const file = join(workDir, `blocked-${c.shape.join('x')}-${c.spec.obstacles.density}.u32`);
      writeBlockedIndices(mask, file);
      igraphRun = igraph(peerJob, file, `${c.name}: igraph`);
    }
    mcp = python.skimage ? gridPeer('mcp', peerJob, maskFile(c.name, mask), `${c.name}: scikit-image MCP`) : skipped('skimage');
  }

  let graphologyRun: Measurement;
  if (c.cells > GRAPHOLOGY_MAX_CELLS) {
    graphologyRun = { skipped: `${c.cells} nodes: about 1.5 kB per node would be ${round((c.cells * 1.5e3) / 2 ** 30, 2)} GiB and minutes to build${quick ? ' (--quick)' : ''}` };
  } else {
    graphologyRun = graphology({ shape: c.shape, density: c.spec.obstacles.density, seed: SEED, start: c.start, end: c.end }, `${c.name}: graphology`);
  }

  verdicts.agree('path lengths agree', c.name, 'length', { catalytic, catalytic_bfs_only: catalyticBfs, igraph: igraphRun, mcp, graphology: graphologyRun });
  if (c.kind === 'hard') {
    verdicts.check('no Manhattan-length path (the dive cannot answer)', c.name, c.manhattanPathExists === false && catalytic['method'] === 'bfs', `Manhattan-length path exists: ${c.manhattanPathExists}; engine method: ${String(catalytic['method'])}`);
  }
  return {
    lattice: c.name,
    kind: c.kind,
    cells: c.cells,
    start: c.start,
    end: c.end,
    ...(c.kind === 'hard' ? { cluster_cells: c.clusterCells, manhattan_path_exists: c.manhattanPathExists } : {}),
    catalytic,
    catalytic_bfs_only: catalyticBfs,
    igraph: igraphRun,
    scikit_image_mcp: mcp,
    graphology: graphologyRun,
    ratios: {
      catalytic_vs_igraph: compare(catalytic, igraphRun),
      catalytic_vs_mcp: compare(catalytic, mcp),
      catalytic_vs_graphology: compare(catalytic, graphologyRun),
      bfs_only_vs_igraph: compare(catalyticBfs, igraphRun),
    },
  };
}

function compare(ours: Measurement, peer: Measurement): Measurement | null {
  if (!answered(ours) || !answered(peer)) return null;
  return {
    e2e: ratio(peer['e2e_ms'], ours['e2e_ms']),
    cpu: ratio(peer['cpu_ms'], ours['cpu_ms']),
    search: ratio(peer['search_ms'], ours['search_ms']),
    // Peer peak RSS against the bytes this engine's kernel allocated (its RSS delta is below
    // what RSS can resolve on the small lattices), and RSS against RSS.
    memory: ratio(peer['rss_delta_bytes'], ours['bytes_allocated']),
    memory_rss_vs_rss: ratio(peer['rss_delta_bytes'], Math.max(4096, Number(ours['rss_delta_bytes']))),
  };
}

function pathCases(): Array<{ c: PathCase; mask: Uint8Array | null }> {
  const out: Array<{ c: PathCase; mask: Uint8Array | null }> = [];
  const easy = [easyPath(5, 10), easyPath(3, 100), easyPath(2, 2000)];
  for (const c of easy) out.push({ c, mask: blockedMask(c, [indexOf(c.shape, c.start), indexOf(c.shape, c.end)]) });
  for (const [shape, density] of [[cube(2, SIDES.hard2d), HARD_DENSITY_2D], [cube(3, SIDES.hard3d), HARD_DENSITY_3D]] as const) {
    const mask = blockedMask(latticeCase(shape, density));
    out.push({ c: hardPath(shape, density, mask), mask });
  }
  if (!quick) out.push({ c: easyPath(3, 1024, true), mask: null });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Components and diffusion

function componentsBenchmark(lattice: LatticeCase): Measurement {
  const catalytic = engine(
    { type: 'components', spec: lattice.spec, params: {}, options: {}, repeats: repeatsFor(lattice.cells), poolThreads: POOL_THREADS, warmup: warmupFor(lattice, 'components', () => ({})), warmupRuns: 1 },
    `${lattice.name}: catalytic components`,
  );
  const scipy = python.scipy
    ? gridPeer('label', { shape: lattice.shape, repeats: PEER_REPEATS }, maskFile(lattice.name, blockedMask(lattice)), `${lattice.name}: scipy.ndimage.label`)
    : skipped('scipy');
  verdicts.agree('component counts agree', lattice.name, 'count', { catalytic, scipy });
  verdicts.agree('largest clusters agree', lattice.name, 'largest', { catalytic, scipy });
  return { lattice: lattice.name, cells: lattice.cells, catalytic, scipy_ndimage_label: scipy, ratios: { e2e: ratio(scipy['e2e_ms'], catalytic['e2e_ms']), cpu: ratio(scipy['cpu_ms'], catalytic['cpu_ms']) } };
}

interface DiffusionCase {
  lattice: LatticeCase;
  params: DiffusionParamsInput & { steps: number };
}

function diffusionCases(): DiffusionCase[] {
  const at = (shape: number[], f: number) => shape.map((side) => Math.floor(side * f));
  const cubeShape = cube(3, SIDES.diffusion);
  const plane = cube(2, SIDES.periodic);
  return [
    {
      lattice: latticeCase(cubeShape, DENSITY),
      params: { steps: DIFFUSION_STEPS, alpha: 0.15, initial: [{ cell: at(cubeShape, 0.5), value: 1000 }], sources: [{ cell: at(cubeShape, 0.1), value: 1 }] },
    },
    {
      // Periodic: heat crosses the faces; a source on a corner cell shows the wrap.
      lattice: latticeCase(plane, 0.3, 'periodic'),
      params: { steps: DIFFUSION_STEPS, alpha: 0.2, initial: [{ cell: at(plane, 0.5), value: 1000 }], sources: [{ cell: [0, 0], value: 5 }] },
    },
  ];
}

function diffusionBenchmark({ lattice, params }: DiffusionCase): Measurement {
  const warm = warmupFor(lattice, 'diffusion', () => ({ steps: 5, alpha: params.alpha }));
  const catalytic = engine(
    { type: 'diffusion', spec: lattice.spec, params, options: {}, repeats: quick ? 2 : 3, poolThreads: POOL_THREADS, warmup: warm, warmupRuns: 1 },
    `${lattice.name}: catalytic diffusion`,
  );
  const jobCells = [...(params.initial ?? []), ...(params.sources ?? [])].map((p) => indexOf(lattice.shape, p.cell));
  const numpy = python.numpy
    ? gridPeer('diffusion', { shape: lattice.shape, boundary: lattice.boundary, params, repeats: quick ? 1 : PEER_REPEATS }, maskFile(lattice.name, blockedMask(lattice, jobCells)), `${lattice.name}: numpy stencil`)
    : skipped('numpy');
  const cellSteps = lattice.cells * params.steps;
  const perSecond = (m: Measurement) => (typeof m['e2e_ms'] === 'number' ? round(cellSteps / (m['e2e_ms'] / 1000), 3) : null);
  let field: Measurement | null = null;
  if (answered(catalytic) && answered(numpy)) {
    const ours = (catalytic['field'] as { values: number[] }).values;
    const theirs = (numpy['field'] as { values: number[] }).values;
    let maxAbs = 0;
    for (let i = 0; i < ours.length; i++) maxAbs = Math.max(maxAbs, Math.abs(ours[i]! - theirs[i]!));
    const ourMax = catalytic['max'] as number;
    const theirMax = numpy['max'] as number;
    field = {
      sampled_values: ours.length,
      same_sampled_shape: JSON.stringify((catalytic['field'] as { shape: number[] }).shape) === JSON.stringify((numpy['field'] as { shape: number[] }).shape),
      max_abs_difference: maxAbs,
      max_abs_difference_relative_to_max: round(maxAbs / Math.abs(ourMax), 3),
      maximum_catalytic: ourMax,
      maximum_numpy: theirMax,
      maximum_identical: ourMax === theirMax,
      total_heat_catalytic: catalytic['total_heat'],
      total_heat_numpy: numpy['total_heat'],
    };
    // float32 both sides; the engine sums a cell's flux in double before rounding, numpy in float32.
    const close = field['same_sampled_shape'] === true && maxAbs <= 1e-4 * Math.abs(ourMax);
    verdicts.check('diffusion fields agree (sampled block means within 1e-4 of the maximum)', lattice.name, close, `max |Δ| ${maxAbs}`);
    verdicts.check('diffusion maxima agree', lattice.name, Math.abs(ourMax - theirMax) <= 1e-5 * Math.abs(ourMax), `${ourMax} vs ${theirMax}${ourMax === theirMax ? ' (identical)' : ''}`);
  }
  const strip = (m: Measurement): Measurement => {
    const { field: _field, ...rest } = m;
    return rest;
  };
  return {
    lattice: lattice.name,
    cells: lattice.cells,
    steps: params.steps,
    catalytic: { ...strip(catalytic), cell_steps_per_second: perSecond(catalytic) },
    numpy: { ...strip(numpy), cell_steps_per_second: perSecond(numpy) },
    field_comparison: field,
    ratios: { cell_steps_per_second: ratio(numpy['e2e_ms'], catalytic['e2e_ms']), cpu: ratio(numpy['cpu_ms'], catalytic['cpu_ms']) },
  };
}

// ---------------------------------------------------------------------------------------------
// Threads

/**
 * One count's blocks as one measurement: the first block's answer and memory, the wall and CPU
 * medians over every block's runs.
 */
function pooledRuns(blocks: Measurement[]): Measurement {
  const done = blocks.filter(answered);
  if (done.length === 0) return blocks[0] ?? { error: 'no block ran' };
  const walls = done.flatMap((m) => m['e2e_ms_runs'] as number[]);
  const cpus = done.flatMap((m) => m['cpu_ms_runs'] as number[]);
  const probes = done.flatMap((m) => (m['probe_runs'] as ProbeRound[] | undefined) ?? []);
  return { ...done[0]!, blocks: done.length, e2e_ms: round(median(walls)), e2e_ms_runs: walls, cpu_ms: round(median(cpus)), cpu_ms_runs: cpus, ...(probes.length > 0 ? { probe_runs: probes } : {}) };
}

/**
 * The machine's own 2 ÷ 1 from the probes a count's children ran after their measured runs
 * (machine-probe.ts), per probe: the median over that count's rounds, and each round.
 */
function machineDuring(m: Measurement): Record<string, { median: number; runs: number[] }> | null {
  const probes = m['probe_runs'] as ProbeRound[] | undefined;
  if (probes === undefined || probes.length === 0) return null;
  const out: Record<string, { median: number; runs: number[] }> = {};
  for (const kind of Object.keys(probes[0]!) as Array<keyof ProbeRound>) {
    const runs = probes.map((p) => p[kind]);
    out[kind] = { median: round(median(runs)), runs };
  }
  return out;
}

function threadScaling(): Measurement {
  const out: Measurement = {};
  const wanted = (kernel: string): boolean => onlyKernels.length === 0 || onlyKernels.includes(kernel);
  const plane = cube(2, SIDES.threads2d);
  const path = !wanted('shortest_path') ? null : hardPath(plane, HARD_DENSITY_2D, blockedMask(latticeCase(plane, HARD_DENSITY_2D)));
  // The same side as the components and diffusion rows, at the 3-D hard density (two threads search it from 2^23 cells).
  const solid = cube(3, SIDES.threads3d);
  const path3d = !wanted('shortest_path') ? null : hardPath(solid, HARD_DENSITY_3D, blockedMask(latticeCase(solid, HARD_DENSITY_3D)));
  const space = latticeCase(cube(3, SIDES.threads3d), DENSITY);
  const diffusionParams = { steps: THREADS_DIFFUSION_STEPS, alpha: 0.15, initial: [{ cell: cube(3, SIDES.threads3d >> 1), value: 1000 }] };
  type Row = { kernel: string; key?: string; type: EngineJob['type']; lattice: LatticeCase; params: unknown; options: EngineJob['options'] };
  const all: Row[] = [
    ...(path ? [{ kernel: 'shortest_path', type: 'shortest_path', lattice: path, params: pathParams(path), options: { strategy: 'bfs' } } satisfies Row] : []),
    ...(path3d ? [{ kernel: 'shortest_path', key: 'shortest_path_3d', type: 'shortest_path', lattice: path3d, params: pathParams(path3d), options: { strategy: 'bfs' } } satisfies Row] : []),
    { kernel: 'components', type: 'components', lattice: space, params: {}, options: {} },
    { kernel: 'diffusion', type: 'diffusion', lattice: space, params: diffusionParams, options: {} },
  ];
  const kernels = all.filter(({ kernel }) => wanted(kernel));
  for (const { kernel, key, type, lattice, params, options } of kernels) {
    const probes: Measurement[] = [];
    const warmup = warmupFor(lattice, type, () => (type === 'shortest_path' ? cornerParams(2, lattice.shape.length) : type === 'diffusion' ? { steps: 5, alpha: 0.15 } : {}));
    let runs: Record<number, Measurement>;
    if (threadsAlternate) {
      // 1 and 2 threads take turns in one pool (engine-child.ts `alternate`): both counts meet the
      // same machine over the same seconds, but each run follows the other count's, which costs
      // a two-thread diffusion a third more (docs/performance.md › Components, 2 ÷ 1 threads measured alternating).
      const both = engine(
        { type, spec: lattice.spec, params, options, repeats: THREADS_ROUNDS, poolThreads: POOL_THREADS, warmup, warmupRuns: THREADS_WARMUP_RUNS, alternate: [1, 2] },
        `${lattice.name}: ${kernel}, 1 and 2 threads alternating`,
      );
      const byThreads = both['by_threads'] as Record<number, Measurement> | undefined;
      runs = { 1: byThreads?.[1] ?? both, 2: byThreads?.[2] ?? both };
    } else {
      // Each count in processes of its own, as a worker runs job after job of one shape, the
      // counts taking turns block by block with the core probe between them.
      const blocks: Record<number, Measurement[]> = { 1: [], 2: [] };
      const perBlock = Math.ceil(THREADS_ROUNDS / THREADS_BLOCKS);
      for (let block = 0; block < THREADS_BLOCKS; block++) {
        for (const threads of block % 2 === 0 ? [1, 2] : [2, 1]) {
          blocks[threads]!.push(
            engine(
              { type, spec: lattice.spec, params, options: { ...options, threads }, repeats: perBlock, poolThreads: POOL_THREADS, warmup, warmupRuns: THREADS_WARMUP_RUNS, probe: runProbe },
              `${lattice.name}: ${kernel}, ${threads} thread(s), block ${block + 1} of ${THREADS_BLOCKS}`,
            ),
          );
        }
        probes.push(coreScaling(CORE_PROBE_ITERATIONS, `the machine's own 2 ÷ 1 threads, block ${block + 1} of ${THREADS_BLOCKS}`));
      }
      runs = { 1: pooledRuns(blocks[1]!), 2: pooledRuns(blocks[2]!) };
    }
    const strip = ({ field: _field, probe_runs: _probes, ...rest }: Measurement): Measurement => rest;
    const machine = probes.filter(answered).map((p) => p['scaling'] as number);
    out[key ?? kernel] = {
      lattice: lattice.name,
      cells: lattice.cells,
      one_thread: strip(runs[1]!),
      two_threads: strip(runs[2]!),
      speedup: ratio(runs[1]!['e2e_ms'], runs[2]!['e2e_ms']),
      cpu_speedup: ratio(runs[1]!['cpu_ms'], runs[2]!['cpu_ms']),
      machine_scaling: machine.length === 0 ? null : { median: round(median(machine)), runs: machine },
      // The probes a count's children ran right after their measured runs, in the same processes.
      machine_during: runs[1]!['probe_runs'] === undefined && runs[2]!['probe_runs'] === undefined ? null : { one_thread_runs: machineDuring(runs[1]!), two_thread_runs: machineDuring(runs[2]!) },
    };
    if (kernel === 'shortest_path') verdicts.agree('path lengths agree (1 and 2 threads)', lattice.name, 'length', { one: runs[1], two: runs[2] });
    if (kernel === 'components') verdicts.agree('component counts agree (1 and 2 threads)', lattice.name, 'count', { one: runs[1], two: runs[2] });
    if (kernel === 'diffusion') verdicts.agree('diffusion maxima agree (1 and 2 threads)', lattice.name, 'max', { one: runs[1], two: runs[2] });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Through the API

/** An API case's name: the kernel and the lattice (one lattice may serve two kernels). */
const apiName = (kernel: string, lattice: string): string => `${kernel}: ${lattice}`;

function apiCases(paths: PathCase[], components: LatticeCase[], diffusions: DiffusionCase[]): ApiCase[] {
  const runs = 3;
  // A tiny job: what the pipeline around a kernel of microseconds costs.
  const tiny: ApiCase = { name: 'tiny: 2-D 8×8, no obstacles', type: 'shortest_path', lattice: { shape: [8, 8] }, params: { start: [0, 0], end: [7, 7] }, runs: smallJobs ? 30 : 10 };
  if (smallJobs) return [tiny];
  return [
    tiny,
    ...paths.filter((c) => c.kind === 'hard' || (c.kind === 'easy' && c.cells >= 1e6)).map((c): ApiCase => ({ name: apiName('shortest_path', c.name), type: 'shortest_path', lattice: c.spec, params: pathParams(c), runs })),
    ...components.map((l): ApiCase => ({ name: apiName('components', l.name), type: 'components', lattice: l.spec, params: {}, runs })),
    ...diffusions.map((d): ApiCase => ({ name: apiName('diffusion', d.lattice.name), type: 'diffusion', lattice: d.lattice.spec, params: d.params, runs })),
  ];
}

// ---------------------------------------------------------------------------------------------

function setTargets(paths: Measurement[], components: Measurement[], diffusion: Measurement[], threads: Measurement | null, api: ApiTiming[]): void {
  const apiMs = (kernel: string, lattice: unknown) => api.find((t) => t.name === apiName(kernel, String(lattice)))?.best_run_ms ?? undefined;
  for (const p of paths.filter((r) => r['kind'] === 'hard')) {
    const lattice = p['lattice'] as string;
    const ours = p['catalytic'] as Measurement;
    const ig = p['igraph'] as Measurement;
    const mcp = p['scikit_image_mcp'] as Measurement;
    const row = { kernel: 'shortest_path', lattice, inProcess: ours['e2e_ms'], apiMs: apiMs('shortest_path', lattice) };
    verdicts.target({ ...row, measure: 'vs igraph end to end (build + search)', peer: ig['e2e_ms'], target: 50 });
    verdicts.target({ ...row, measure: 'vs igraph search alone', peer: ig['search_ms'], target: 5 });
    verdicts.target({ ...row, measure: 'vs scikit-image MCP', peer: mcp['e2e_ms'], target: 20 });
    verdicts.target({ kernel: 'shortest_path', lattice, measure: 'memory: igraph peak RSS Δ ÷ bytes Catalytic allocated', peer: ig['rss_delta_bytes'], inProcess: ours['bytes_allocated'], target: 100 });
  }
  for (const c of components) {
    const ours = c['catalytic'] as Measurement;
    verdicts.target({ kernel: 'components', lattice: c['lattice'] as string, measure: 'vs scipy.ndimage.label', peer: (c['scipy_ndimage_label'] as Measurement)['e2e_ms'], inProcess: ours['e2e_ms'], apiMs: apiMs('components', c['lattice']), target: 4 });
  }
  for (const d of diffusion) {
    const ours = d['catalytic'] as Measurement;
    verdicts.target({ kernel: 'diffusion', lattice: d['lattice'] as string, measure: 'vs numpy stencil, cell-steps/s', peer: (d['numpy'] as Measurement)['e2e_ms'], inProcess: ours['e2e_ms'], apiMs: apiMs('diffusion', d['lattice']), target: 5 });
  }
  for (const [kernel, t] of Object.entries(threads ?? {})) {
    const m = t as Measurement;
    const machine = (m['machine_scaling'] as { median: number } | null)?.median;
    const during = (m['machine_during'] as { two_thread_runs: Record<string, { median: number }> | null } | null)?.two_thread_runs;
    const probes = during ? `; during the 2-thread runs: stream ${during['stream']?.median}x, alu8 ${during['alu8']?.median}x, alu ${during['alu']?.median}x` : '';
    const beside = machine === undefined ? probes : `; the machine's own 2 ÷ 1 in the same blocks: ${machine}x${probes}`;
    verdicts.target({ kernel, lattice: m['lattice'] as string, measure: `2 threads vs 1 thread, wall (peer = the 1-thread run${beside})`, peer: (m['one_thread'] as Measurement)['e2e_ms'], inProcess: (m['two_threads'] as Measurement)['e2e_ms'], target: 1.7 });
  }
  const huge = paths.find((r) => r['kind'] === 'huge');
  const bfs = huge?.['catalytic_bfs_only'] as Measurement | undefined;
  if (answered(bfs)) {
    verdicts.target({ kernel: 'shortest_path', lattice: huge!['lattice'] as string, measure: 'BFS alone: 60 s ÷ wall', peer: 60_000, inProcess: bfs['e2e_ms'], target: 1 });
    verdicts.target({ kernel: 'shortest_path', lattice: huge!['lattice'] as string, measure: 'BFS alone: 4 bits ÷ bits per cell', peer: 4, inProcess: bfs['bits_per_cell'], target: 1 });
  }
}

// By default the kernel threads load their source through tsx, as `npm start` runs them; compiled
// on request, once for every engine child (a tsx thread carries the loader's own isolate and heap).
const bundle = compiledThreads ? await buildCatalyticBundle() : null;
useKernelThread(bundle?.threadFile);
try {
  const started = performance.now();
  log(`python modules: ${JSON.stringify(python)}`);
  const cases = smallJobs || fieldsOnly || threadsOnly ? [] : pathCases();
  const componentCases = [latticeCase(cube(3, SIDES.components), DENSITY), latticeCase(cube(3, SIDES.components), HARD_DENSITY_3D)];
  const diffusions = diffusionCases();
  const shortestPath = apiOnly ? [] : cases.map(({ c, mask }) => pathBenchmark(c, mask));
  const components = apiOnly || threadsOnly ? [] : componentCases.map(componentsBenchmark);
  const diffusion = apiOnly || threadsOnly ? [] : diffusions.map(diffusionBenchmark);
  const threads = apiOnly ? null : threadScaling();
  const fieldContext = { quick, poolThreads: POOL_THREADS, workDir, skimage: python.skimage, scipy: python.scipy, verdicts };
  const fields = !(apiOnly && !fieldsOnly) && !connectivityOnly && !threadsOnly;
  const distanceField = fields ? distanceFieldBenchmarks(fieldContext) : [];
  const minCostPath = fields ? minCostPathBenchmarks(fieldContext) : [];
  const percolationCurves = fields ? percolationBenchmarks(fieldContext) : [];
  const fullConnectivity = (apiOnly && !fieldsOnly) || threadsOnly ? [] : fullConnectivityBenchmarks(fieldContext);
  const api = withApi ? await apiTimings(apiCases(cases.map(({ c }) => c), componentCases, diffusions), POOL_THREADS, log) : [];
  // The API's answers against the same jobs run in process.
  const inProcess = [
    ...shortestPath.map((m) => ({ name: apiName('shortest_path', m['lattice'] as string), field: 'length', m })),
    ...components.map((m) => ({ name: apiName('components', m['lattice'] as string), field: 'count', m })),
    ...diffusion.map((m) => ({ name: apiName('diffusion', m['lattice'] as string), field: 'max', m })),
  ];
  for (const timing of api) {
    const match = inProcess.find((p) => p.name === timing.name);
    if (match && timing.result) {
      verdicts.agree(`${match.field} agrees (API and in process)`, timing.name, match.field, { api: timing.result, in_process: match.m['catalytic'] as Measurement });
    }
  }
  setTargets(shortestPath, components, diffusion, threads, api);
  const report = {
    command: `npm run bench:lattice${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      memory_gib: round(totalmem() / 2 ** 30, 3),
      node: process.version,
      load_average_at_start: loadavg().map((l) => round(l, 3)),
    },
    settings: { threads_rows: threadsAlternate ? 'alternating in one pool' : 'a process per thread count and block, counts taking turns', threads_runs: threadsAlternate ? THREADS_ROUNDS : Math.ceil(THREADS_ROUNDS / THREADS_BLOCKS) * THREADS_BLOCKS, threads_blocks: threadsAlternate ? 1 : THREADS_BLOCKS, kernel_thread: bundle === null ? 'source entry through tsx' : 'compiled', seed: SEED, easy_density: DENSITY, hard_density_2d: HARD_DENSITY_2D, hard_density_3d: HARD_DENSITY_3D, pool_threads: POOL_THREADS, api_poll: apiPollMode, quick, huge_bfs: hugeBfs, python_modules: python },
    notes: [
      'Easy paths: corner to corner at density 0.2, where the lower-bound dive answers. Hard paths: ends on the largest cluster near opposite corners, no path of Manhattan length (checked), so the bidirectional BFS runs.',
      'Catalytic in process: one pool.run in its own process (validation, obstacles, search, answer), median of the repeats after warm-up runs. Through the API: the job\'s run_ms (attempt start to final write), best of 3 after one unmeasured run; one worker process, KERNEL_THREADS = pool_threads; the client waits with held polls (Prefer: wait, as the SDK does) unless settings.api_poll says interval (a poll every 10 ms).',
      'Peers: best of their repeats (e2e_ms_runs lists them). igraph: Graph.Lattice + delete_vertices + get_shortest_paths; MCP: costs array (blocked = -1) + MCP(fully_connected=False) + find_costs + traceback; scipy: ndimage.label with 2·d connectivity (bincount for sizes timed apart); numpy: v = u + f, u += alpha·Σ mask·(roll(v) − v), blocked cells 0, float32. The peers read the lattice as a byte mask the benchmark wrote; their blocked_cells count is that mask\'s.',
      'Targets are ratios peer ÷ Catalytic (for diffusion, cell-steps/s: the same lattice and steps, so the time ratio); memory: igraph peak RSS rise ÷ the bytes Catalytic\'s kernel allocated.',
      'cpu_ms is the CPU time of all the process\'s threads: on a machine other work also loads, wall time includes waiting for a core and cpu_ms does not.',
    ],
    shortest_path: shortestPath,
    components,
    diffusion,
    distance_field: distanceField,
    min_cost_path: minCostPath,
    percolation: percolationCurves,
    full_connectivity: fullConnectivity,
    threads,
    api,
    targets: verdicts.targets,
    checks: verdicts.checks,
    total_seconds: 0,
  };
  report.total_seconds = round((performance.now() - started) / 1000, 3);
  verdicts.print();
  const json = JSON.stringify(report, null, 2);
  if (outFile) writeFileSync(outFile, `${json}\n`);
  process.stdout.write(`${json}\n`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
  await bundle?.remove();
}
