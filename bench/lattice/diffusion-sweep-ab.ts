/**
 * Whether a diffusion step costs the same stepping upwards and downwards (diffusion-wasm.ts
 * `step(…, down)`): one slab of the whole 216³ lattice (density 0.2) in this thread, its codes
 * built once, then `rounds` rounds of 10 steps each way, the order swapped every round. Prints
 * the medians and each round's ms.
 *
 *   node --import tsx bench/lattice/diffusion-sweep-ab.ts [rounds] [side]
 */
import { loadavg } from 'node:os';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { WasmStencil } from '../../worker/kernels/diffusion-wasm.ts';
import { planSlabs } from '../../worker/kernels/slabs.ts';
import { median, round } from './measure.ts';

const rounds = Number(process.argv[2] ?? 8);
const side = Number(process.argv[3] ?? 216);
const lattice = resolveLattice({ shape: [side, side, side], boundary: 'open', obstacles: { density: 0.2, seed: 7 } });
const slab = planSlabs(lattice, 1)[0]!;
const stencil = new WasmStencil(lattice, slab);
stencil.buildCodes(lattice, slab, [], () => {});
stencil.field().fill(1);
const tenSteps = (down: boolean): number => {
  const started = performance.now();
  for (let s = 0; s < 10; s++) stencil.step(lattice, 0.15, () => {}, 1, down);
  return performance.now() - started;
};
tenSteps(false);
tenSteps(true);
const up: number[] = [];
const down: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (const d of r % 2 === 0 ? [false, true] : [true, false]) (d ? down : up).push(tenSteps(d));
}
stencil.release();
console.log(JSON.stringify({ lattice: `${side}³ density 0.2, one slab, 10 steps`, load_average: round(loadavg()[0]!), up_ms: round(median(up)), down_ms: round(median(down)), up_runs: up.map((x) => round(x)), down_runs: down.map((x) => round(x)) }));
