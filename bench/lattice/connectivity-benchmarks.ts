/**
 * `connectivity: full` (3^d − 1 neighbours) beside its peers, in one run: components against
 * scipy.ndimage.label with a full structure (`generate_binary_structure(d, d)`), and a shortest
 * path against scikit-image's MCP with `fully_connected=True` on unit costs. Answers must agree
 * (cluster count and largest; path length). The rows `npm run bench:lattice` adds under
 * `full_connectivity` (also with `--fields-only`).
 */
import { join } from 'node:path';
import { engine, gridPeer, type Measurement } from './children.ts';
import { blockedMask, indexOf, latticeCase, type LatticeCase, SEED, writeMask } from './lattices.ts';
import { ratio } from './report.ts';
import type { FieldBenchContext } from './field-benchmarks.ts';

const cube = (dimensions: number, side: number): number[] => new Array<number>(dimensions).fill(side);

function maskFile(ctx: FieldBenchContext, name: string, mask: Uint8Array): string {
  const file = join(ctx.workDir, `full-${name.replace(/[^\w-]+/g, '_')}.mask`);
  writeMask(mask, file);
  return file;
}

function warmup(lattice: LatticeCase, params: (side: number) => unknown): { spec: unknown; params: unknown } {
  const d = lattice.shape.length;
  const side = Math.max(2, Math.round(20_000 ** (1 / d)));
  return { spec: { shape: cube(d, side), obstacles: { density: lattice.spec.obstacles.density, seed: SEED + 1 } }, params: params(side) };
}

/** Components with diagonals on a sparse 2-D and 3-D lattice, and one diagonal shortest path. */
export function fullConnectivityBenchmarks(ctx: FieldBenchContext): Measurement[] {
  const scipy = ctx.scipy;
  const repeats = ctx.quick ? 3 : 5;
  const peerRepeats = ctx.quick ? 1 : 3;
  const labelled = [latticeCase(cube(2, ctx.quick ? 500 : 1000), 0.5), latticeCase(cube(3, ctx.quick ? 48 : 100), 0.75)].map((lattice): Measurement => {
    const name = `${lattice.name}, full`;
    const params = { connectivity: 'full' };
    const catalytic = engine(
      { type: 'components', spec: lattice.spec, params, options: {}, repeats, poolThreads: ctx.poolThreads, warmup: warmup(lattice, () => params), warmupRuns: 1 },
      `${name}: catalytic components`,
    );
    const peer = scipy
      ? gridPeer('label', { shape: lattice.shape, connectivity: 'full', repeats: peerRepeats }, maskFile(ctx, name, blockedMask(lattice)), `${name}: scipy.ndimage.label (full structure)`)
      : { skipped: 'python3-scipy not installed' };
    ctx.verdicts.agree('full-connectivity clusters agree with scipy: count', name, 'count', { catalytic, scipy: peer });
    ctx.verdicts.agree('full-connectivity clusters agree with scipy: largest', name, 'largest', { catalytic, scipy: peer });
    ctx.verdicts.target({ kernel: 'components (full)', lattice: name, measure: 'vs scipy.ndimage.label, full structure; no stated goal', peer: peer['e2e_ms'], inProcess: catalytic['e2e_ms'], target: 1 });
    return { kernel: 'components', lattice: name, cells: lattice.cells, catalytic, scipy_label: peer, ratios: { e2e: ratio(peer['e2e_ms'], catalytic['e2e_ms']), cpu: ratio(peer['cpu_ms'], catalytic['cpu_ms']) } };
  });

  const lattice = latticeCase(cube(2, ctx.quick ? 500 : 1000), 0.4);
  const name = `${lattice.name}, full, corner to corner`;
  const start = cube(2, 0);
  const end = cube(2, lattice.shape[0]! - 1);
  const params = { start, end, connectivity: 'full' };
  const catalytic = engine(
    { type: 'shortest_path', spec: lattice.spec, params, options: {}, repeats, poolThreads: ctx.poolThreads, warmup: warmup(lattice, (s) => ({ start: [0, 0], end: [s - 1, s - 1], connectivity: 'full' })), warmupRuns: 1 },
    `${name}: catalytic shortest_path`,
  );
  const mask = blockedMask(lattice, [indexOf(lattice.shape, start), indexOf(lattice.shape, end)]);
  const peer = ctx.skimage
    ? gridPeer('mcp', { shape: lattice.shape, start, end, connectivity: 'full', repeats: peerRepeats }, maskFile(ctx, name, mask), `${name}: MCP(fully_connected=True)`)
    : { skipped: 'python3-skimage not installed' };
  ctx.verdicts.agree('full-connectivity path lengths agree with MCP', name, 'length', { catalytic, mcp: peer });
  ctx.verdicts.target({ kernel: 'shortest_path (full)', lattice: name, measure: 'vs scikit-image MCP, fully_connected; no stated goal', peer: peer['e2e_ms'], inProcess: catalytic['e2e_ms'], target: 1 });
  const path: Measurement = { kernel: 'shortest_path', lattice: name, cells: lattice.cells, catalytic, scikit_image_mcp: peer, ratios: { e2e: ratio(peer['e2e_ms'], catalytic['e2e_ms']), cpu: ratio(peer['cpu_ms'], catalytic['cpu_ms']) } };
  return [...labelled, path];
}
