/**
 * distance_field and min_cost_path beside scikit-image's MCP (field_peers.py), on the same
 * lattices and costs, in one run: the rows `npm run bench:lattice` adds under `distance_field`
 * and `min_cost_path` (alone with `--fields-only`).
 */
import { join } from 'node:path';
import { answered, engine, fieldPeer, type Measurement } from './children.ts';
import { blockedMask, DENSITY, HARD_DENSITY_2D, indexOf, latticeCase, type LatticeCase, SEED, writeMask } from './lattices.ts';
import { round } from './measure.ts';
import { ratio, type Verdicts } from './report.ts';

/** What the field benchmarks need from the run. */
export interface FieldBenchContext {
  quick: boolean;
  poolThreads: number;
  workDir: string;
  skimage: boolean;
  scipy: boolean;
  verdicts: Verdicts;
}

const cube = (dimensions: number, side: number): number[] => new Array<number>(dimensions).fill(side);

interface FieldCase {
  lattice: LatticeCase;
  connectivity: 'axis' | 'full';
}

function warmupOf(lattice: LatticeCase, params: (side: number) => unknown): { spec: unknown; params: unknown } {
  const d = lattice.shape.length;
  const side = Math.max(2, Math.round(20_000 ** (1 / d)));
  return { spec: { shape: cube(d, side), obstacles: { density: lattice.spec.obstacles.density, seed: SEED + 1 } }, params: params(side) };
}

function maskFile(ctx: FieldBenchContext, name: string, mask: Uint8Array): string {
  const file = join(ctx.workDir, `field-${name.replace(/[^\w-]+/g, '_')}.mask`);
  writeMask(mask, file);
  return file;
}

/** Distance fields: a whole face of a hard 2-D lattice, and a few cells of a 3-D one with diagonals. */
export function distanceFieldBenchmarks(ctx: FieldBenchContext): Measurement[] {
  const cases: Array<FieldCase & { sources: 'face' | number[][] }> = [
    { lattice: latticeCase(cube(2, ctx.quick ? 500 : 2000), HARD_DENSITY_2D), connectivity: 'axis', sources: 'face' },
    {
      lattice: latticeCase(cube(3, ctx.quick ? 48 : 100), DENSITY),
      connectivity: 'full',
      sources: [cube(3, 0), cube(3, ctx.quick ? 24 : 50), cube(3, ctx.quick ? 47 : 99)],
    },
  ];
  return cases.map(({ lattice, connectivity, sources }) => {
    const name = `${lattice.name}, ${connectivity}, ${sources === 'face' ? 'face axis 0 low' : `${sources.length} source cells`}`;
    const params = sources === 'face' ? { face: { axis: 0, side: 'low' }, connectivity } : { sources, connectivity };
    const own = sources === 'face' ? [] : sources.map((c) => indexOf(lattice.shape, c));
    const mask = blockedMask(lattice, own);
    // The peer gets the sources as cells: a face's open cells.
    const peerSources =
      sources === 'face' ? Array.from({ length: lattice.shape[1]! }, (_, x) => [0, x]).filter(([, x]) => mask[x!] === 0) : sources;
    const catalytic = engine(
      {
        type: 'distance_field',
        spec: lattice.spec,
        params,
        options: {},
        repeats: ctx.quick ? 3 : 5,
        poolThreads: ctx.poolThreads,
        warmup: warmupOf(lattice, (side) => ({ sources: [cube(lattice.shape.length, side >> 1)], connectivity })),
        warmupRuns: 1,
      },
      `${name}: catalytic distance_field`,
    );
    const mcp = ctx.skimage
      ? fieldPeer('distance', { shape: lattice.shape, sources: peerSources, connectivity, repeats: ctx.quick ? 1 : 2 }, maskFile(ctx, name, mask), `${name}: MCP.find_costs`)
      : { skipped: 'python3-skimage not installed' };
    ctx.verdicts.agree('distance fields agree: cells reached', name, 'reached', { catalytic, mcp });
    ctx.verdicts.agree('distance fields agree: largest distance', name, 'max', { catalytic, mcp });
    if (answered(catalytic) && answered(mcp)) {
      const close = Math.abs(Number(catalytic['mean']) - Number(mcp['mean'])) <= 1e-9 * Math.max(1, Number(mcp['mean']));
      ctx.verdicts.check('distance fields agree: mean distance', name, close, `catalytic ${String(catalytic['mean'])}, mcp ${String(mcp['mean'])}`);
    }
    ctx.verdicts.target({ kernel: 'distance_field', lattice: name, measure: 'vs MCP.find_costs over the lattice', peer: mcp['e2e_ms'], inProcess: catalytic['e2e_ms'], target: 10 });
    return { lattice: name, cells: lattice.cells, catalytic, scikit_image_mcp: mcp, ratios: { e2e: ratio(mcp['e2e_ms'], catalytic['e2e_ms']), cpu: ratio(mcp['cpu_ms'], catalytic['cpu_ms']) } };
  });
}

/** Minimum-cost paths corner to corner on costs 1..9, along the axes and with diagonals. */
export function minCostPathBenchmarks(ctx: FieldBenchContext): Measurement[] {
  const side = ctx.quick ? 500 : 2000;
  const cases: FieldCase[] = [
    { lattice: latticeCase(cube(2, side), DENSITY), connectivity: 'axis' },
    { lattice: latticeCase(cube(2, side >> 1), DENSITY), connectivity: 'full' },
  ];
  const costs = { max: 9, seed: SEED };
  return cases.map(({ lattice, connectivity }) => {
    const name = `${lattice.name}, ${connectivity}, costs 1..${costs.max}`;
    const start = cube(2, 0);
    const end = cube(2, lattice.shape[0]! - 1);
    const params = { start, end, costs, connectivity };
    const catalytic = engine(
      {
        type: 'min_cost_path',
        spec: lattice.spec,
        params,
        options: {},
        repeats: ctx.quick ? 3 : 5,
        poolThreads: ctx.poolThreads,
        warmup: warmupOf(lattice, (s) => ({ start: [0, 0], end: [s - 1, s - 1], costs, connectivity })),
        warmupRuns: 1,
      },
      `${name}: catalytic min_cost_path`,
    );
    const mask = blockedMask(lattice, [indexOf(lattice.shape, start), indexOf(lattice.shape, end)]);
    const mcp = ctx.skimage
      ? fieldPeer('mincost', { shape: lattice.shape, start, end, costs, connectivity, repeats: ctx.quick ? 1 : 2 }, maskFile(ctx, name, mask), `${name}: MCP`)
      : { skipped: 'python3-skimage not installed' };
    ctx.verdicts.agree('minimum costs agree (MCP less the start cell\'s cost)', name, 'cost', { catalytic, mcp });
    ctx.verdicts.target({ kernel: 'min_cost_path', lattice: name, measure: 'vs scikit-image MCP', peer: mcp['e2e_ms'], inProcess: catalytic['e2e_ms'], target: 5 });
    return {
      lattice: name,
      cells: lattice.cells,
      catalytic,
      scikit_image_mcp: mcp,
      ratios: { e2e: ratio(mcp['e2e_ms'], catalytic['e2e_ms']), cpu: ratio(mcp['cpu_ms'], catalytic['cpu_ms']), memory: ratio(mcp['rss_delta_bytes'], catalytic['bytes_allocated']) },
      bytes_per_cell: answered(catalytic) ? round(Number(catalytic['bytes_allocated']) / lattice.cells, 3) : null,
    };
  });
}

/**
 * percolation beside its repeated-components cost (graph-tool's vertex_percolation is not
 * installable here): one run for 101 densities against 101 components runs, timed as one run at
 * density 0.4 times 101. The curve's point at 0.4 must match that components run.
 */
export function percolationBenchmarks(ctx: FieldBenchContext): Measurement[] {
  const side = ctx.quick ? 500 : 1000;
  const points = 101;
  const shape = cube(2, side);
  const name = `2-D side ${side}, seed ${SEED}, ${points} densities`;
  const base = { options: {}, repeats: 3, poolThreads: ctx.poolThreads, warmupRuns: 1 };
  const curve = engine(
    { ...base, type: 'percolation', spec: { shape }, params: { seed: SEED, points }, warmup: { spec: { shape: cube(2, 100) }, params: { seed: SEED + 1, points } } },
    `${name}: catalytic percolation`,
  );
  const one = engine(
    { ...base, type: 'components', spec: { shape, obstacles: { density: 0.4, seed: SEED } }, params: {}, warmup: { spec: { shape: cube(2, 100), obstacles: { density: 0.4, seed: SEED + 1 } }, params: {} } },
    `${name}: catalytic components at density 0.4`,
  );
  const repeated = answered(one) ? round(Number(one['e2e_ms']) * points, 3) : null;
  if (answered(curve) && answered(one)) {
    const at = (curve['points'] as Array<{ density: number; largest: number; spans_axis0: boolean }>).find((p) => p.density === 0.4);
    const ok = at !== undefined && at.largest === one['largest'] && at.spans_axis0 === one['spans_axis0'];
    ctx.verdicts.check('percolation curve at 0.4 agrees with components', name, ok, `curve ${JSON.stringify(at)}, components largest ${String(one['largest'])} spans ${String(one['spans_axis0'])}`);
  }
  const { points: _points, ...curveSummary } = curve;
  ctx.verdicts.target({ kernel: 'percolation', lattice: name, measure: `vs ${points} components runs (one at 0.4 × ${points}); no stated goal, ≥ 1 = cheaper than repeating`, peer: repeated, inProcess: curve['e2e_ms'], target: 1 });
  return [{ lattice: name, cells: shape[0]! * shape[1]!, catalytic: curveSummary, components_one_run: one, repeated_components_ms: repeated, ratios: { e2e: ratio(repeated, curve['e2e_ms']) } }];
}
