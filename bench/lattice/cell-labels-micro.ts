/**
 * The components artefact's labelling alone (every cell's label), in one thread: the run-based
 * WebAssembly labelling against the cell-by-cell JavaScript one on the benchmark's lattices, CPU
 * ms of each (best of 3, interleaved) and whether the labels are identical.
 *
 *   node --import tsx bench/lattice/cell-labels-micro.ts [side]
 */
import { loadavg } from 'node:os';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { labelComponents, labelComponentsByCell } from '../../worker/kernels/component-labels.ts';

const side = Number(process.argv[2] ?? 200);
const cpuMs = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};
console.log(JSON.stringify({ load_average: loadavg().map((x) => Number(x.toFixed(1))) }));
for (const density of [0.2, 0.69]) {
  const lattice = resolveLattice({ dimensions: 3, size: side, obstacles: { density, seed: 7 } });
  const best = { by_cell: Infinity, wasm: Infinity };
  let same = true;
  for (let i = 0; i < 3; i++) {
    let started = cpuMs();
    const a = labelComponentsByCell(lattice);
    best.by_cell = Math.min(best.by_cell, cpuMs() - started);
    started = cpuMs();
    const b = labelComponents(lattice);
    best.wasm = Math.min(best.wasm, cpuMs() - started);
    same &&= Buffer.from(a.labels.buffer).equals(Buffer.from(b.labels.buffer)) && Buffer.from(a.sizes.buffer).equals(Buffer.from(b.sizes.buffer));
  }
  console.log(JSON.stringify({ side, density, by_cell_cpu_ms: Math.round(best.by_cell), wasm_cpu_ms: Math.round(best.wasm), ratio: Number((best.by_cell / best.wasm).toFixed(2)), identical: same }));
}
