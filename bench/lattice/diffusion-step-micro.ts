/**
 * The diffusion stencil alone, in one thread without the pool: CPU ns per cell-step of the
 * WebAssembly stencil and of the JavaScript one on the same slab, and the build of each one's
 * codes, so a change to either loop can be measured without the barriers and the peers.
 *
 *   node --import tsx bench/lattice/diffusion-step-micro.ts [side] [steps] [dimensions] [density] [boundary]
 *
 * Defaults: 160³, 20 steps, density 0.2, open; `1024 40 2 0.3 periodic` is bench:lattice's 2-D case.
 */
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { planSlabs } from '../../worker/kernels/slabs.ts';
import { conductanceCodes, stencilWeights } from '../../worker/kernels/conductance-codes.ts';
import { stepSlab } from '../../worker/kernels/diffusion-stencil.ts';
import { WasmStencil } from '../../worker/kernels/diffusion-wasm.ts';

const side = Number(process.argv[2] ?? 160);
const steps = Number(process.argv[3] ?? 20);
const dimensions = Number(process.argv[4] ?? 3);
const density = Number(process.argv[5] ?? 0.2);
const boundary = process.argv[6] === 'periodic' ? 'periodic' : 'open';
const alpha = 0.15;
const lattice = resolveLattice({ dimensions, size: side, boundary, obstacles: { density, seed: 7 } });
const slabs = planSlabs(lattice, 1);
const own = slabs[0]!;
const cpuMs = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
const fieldA = new Float32Array(own.cells);
const fieldB = new Float32Array(own.cells);
fieldA[own.cells >> 1] = 1000;

/** Best ns per cell-step of 3 timings of `steps` steps (the first also warms the code up). */
function timeSteps(step: (current: Float32Array, next: Float32Array) => void): number {
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const started = cpuMs();
    for (let s = 0; s < steps; s++) step(s % 2 === 0 ? fieldA : fieldB, s % 2 === 0 ? fieldB : fieldA);
    best = Math.min(best, ((cpuMs() - started) * 1e6) / (steps * own.cells));
  }
  return best;
}

let started = cpuMs();
const wasm = new WasmStencil(lattice, own);
wasm.buildCodes(lattice, own, [], () => {});
const wasmBuild = cpuMs() - started;
// The WebAssembly stencil steps its own field in place (one slab: no faces to hand over).
wasm.field()[own.cells >> 1] = 1000;
const wasmNs = timeSteps(() => wasm.step(lattice, alpha, () => {}, Math.max(1, Math.floor(65536 / lattice.strides[0]!))));

started = cpuMs();
const built = conductanceCodes(lattice, own, [], () => {});
const jsBuild = cpuMs() - started;
const job = { lattice, slabs, me: 0, codes: built.codes, weights: stencilWeights(alpha), tick: () => {} };
const scratch = new Float64Array(side);
const jsNs = timeSteps((current, next) => stepSlab(job, [current], next, scratch));

console.log(
  JSON.stringify({
    side,
    steps,
    dimensions,
    boundary,
    wasm: { build_ms: Math.round(wasmBuild), ns_per_cell_step: Number(wasmNs.toFixed(2)) },
    js: { build_ms: Math.round(jsBuild), ns_per_cell_step: Number(jsNs.toFixed(2)) },
    step_speedup: Number((jsNs / wasmNs).toFixed(2)),
  }),
);
