/**
 * The shortest-path search of this checkout against another checkout's (e.g. `git archive <commit>
 * | tar -x -C DIR`, with node_modules linked), runs interleaved in one process on the hard lattices
 * of `npm run bench:lattice` (no Manhattan-length path, so the dive cannot answer), beside
 * python-igraph and scikit-image's MCP on the same lattices: on a machine others load, ratios
 * taken side by side are the figures that hold.
 *
 *   node --import tsx bench/lattice/bfs-ab.ts BASE_DIR [2d,3d,big] [repeats] [--no-peers]
 *
 * Engines run as the API runs them (default options: the dive, then the search; threads 'auto')
 * and, on `big` (≥ 10^7 cells), the base's search with 1 and 2 slab threads. Prints one JSON line
 * per case: best `run_ms` (build + run, as a job's `run_ms`) and CPU ms of each engine, the peers'
 * best search and end-to-end ms, every length, and the load average before and after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import type { KernelRunOptions } from '../../worker/kernels/kernel-run.ts';
import { answered, gridPeer, igraph, type Measurement } from './children.ts';
import { blockedMask, HARD_DENSITY_2D, HARD_DENSITY_3D, hardPath, indexOf, latticeCase, writeBlockedIndices, writeMask } from './lattices.ts';
import { round } from './measure.ts';

const args = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const baseDir = args[0];
if (baseDir === undefined) throw new Error('usage: bfs-ab.ts BASE_DIR [2d,3d,big] [repeats] [--no-peers]');
const which = (args[1] ?? '2d,3d').split(',');
const repeats = Number(args[2] ?? 3);
const withPeers = !process.argv.includes('--no-peers');

type Pool = Pick<KernelPool, 'start' | 'close' | 'runDetailed'>;
const { KernelPool: BasePool } = (await import(pathToFileURL(resolve(baseDir, 'worker/kernels/kernel-pool.ts')).href)) as {
  KernelPool: new (options: { threads: number; memoryLimitBytes?: number }) => Pool;
};
const options = { threads: 2, memoryLimitBytes: 2 ** 31 };
const pools: Record<'base' | 'head', Pool> = { base: new BasePool(options), head: new KernelPool(options) };
await Promise.all(Object.values(pools).map((pool) => pool.start()));

const SHAPES: Record<string, { shape: number[]; density: number }> = {
  '2d': { shape: [2000, 2000], density: HARD_DENSITY_2D },
  '3d': { shape: [159, 159, 159], density: HARD_DENSITY_3D },
  big: { shape: [3200, 3200], density: HARD_DENSITY_2D },
};

interface Best {
  run_ms: number;
  cpu_ms: number;
  length: number | null;
  visited: number;
  bits_per_cell: number;
  threads: number;
}

/** Best run_ms and CPU of each variant, the variants' runs interleaved. */
async function interleaved(spec: object, params: object, variants: Record<string, { pool: Pool; options: KernelRunOptions }>): Promise<Record<string, Best>> {
  const best: Record<string, Best> = {};
  for (let i = 0; i < repeats; i++) {
    for (const [name, { pool, options: runOptions }] of Object.entries(variants)) {
      const cpu = process.cpuUsage();
      const { result, stats } = await pool.runDetailed('shortest_path', spec as never, params as never, runOptions);
      const spent = process.cpuUsage(cpu);
      const run_ms = round(stats.build_ms + stats.run_ms);
      const cpu_ms = round((spent.user + spent.system) / 1000);
      const previous = best[name];
      best[name] = {
        run_ms: Math.min(previous?.run_ms ?? Infinity, run_ms),
        cpu_ms: Math.min(previous?.cpu_ms ?? Infinity, cpu_ms),
        length: result.length,
        visited: result.visited,
        bits_per_cell: round((result.memory_bytes * 8) / stats.cells, 3),
        threads: stats.threads,
      };
    }
  }
  return best;
}

const workDir = mkdtempSync(join(tmpdir(), 'bfs-ab-'));
try {
  for (const name of which) {
    const { shape, density } = SHAPES[name]!;
    const load_before = loadavg().map((x) => round(x, 1));
    const mask = blockedMask(latticeCase(shape, density));
    const c = hardPath(shape, density, mask);
    const params = { start: c.start, end: c.end };
    const variants: Record<string, { pool: Pool; options: KernelRunOptions }> = {
      base: { pool: pools.base, options: {} },
      head: { pool: pools.head, options: {} },
    };
    if (name === 'big') {
      variants['base_bfs_1_thread'] = { pool: pools.base, options: { strategy: 'bfs', threads: 1 } };
      variants['base_bfs_2_threads'] = { pool: pools.base, options: { strategy: 'bfs', threads: 2 } };
      variants['head_bfs_2_slab_threads'] = { pool: pools.head, options: { strategy: 'bfs', threads: 2 } };
    }
    const engines = await interleaved(c.spec, params, variants);
    const row: Record<string, unknown> = { case: c.name, cells: c.cells, start: c.start, end: c.end, manhattan_path_exists: c.manhattanPathExists, repeats, engines };
    row['head_vs_base'] = round(engines['base']!.run_ms / engines['head']!.run_ms, 2);
    if (withPeers) {
      const peerJob = { shape, start: c.start, end: c.end, repeats: 3 };
      const blocked = join(workDir, 'blocked.u32');
      const maskFile = join(workDir, 'mask.u8');
      mask[indexOf(shape, c.start)] = 0;
      mask[indexOf(shape, c.end)] = 0;
      writeBlockedIndices(mask, blocked);
      writeMask(mask, maskFile);
      const peers: Record<string, Measurement> = {
        igraph: c.cells <= 1e7 ? igraph(peerJob, blocked, `${c.name}: igraph`) : { skipped: 'more than 10^7 vertices' },
        mcp: gridPeer('mcp', peerJob, maskFile, `${c.name}: scikit-image MCP`),
      };
      row['peers'] = Object.fromEntries(
        Object.entries(peers).map(([peer, m]) => [peer, answered(m) ? { length: m['length'], search_ms: m['search_ms'], e2e_ms: m['e2e_ms'] } : m]),
      );
      const ratios: Record<string, unknown> = {};
      for (const engine of ['base', 'head']) {
        const ours = engines[engine]!.run_ms;
        const ig = peers['igraph']!;
        const mcp = peers['mcp']!;
        ratios[engine] = {
          igraph_search: answered(ig) ? round(Number(ig['search_ms']) / ours, 2) : null,
          igraph_e2e: answered(ig) ? round(Number(ig['e2e_ms']) / ours, 2) : null,
          mcp: answered(mcp) ? round(Number(mcp['e2e_ms']) / ours, 2) : null,
        };
      }
      row['ratios'] = ratios;
    }
    row['load_before'] = load_before;
    row['load_after'] = loadavg().map((x) => round(x, 1));
    console.log(JSON.stringify(row));
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
  await Promise.all(Object.values(pools).map((pool) => pool.close()));
}
