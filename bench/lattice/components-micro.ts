/**
 * The components labelling alone, in one thread without the pool: CPU ns per cell of one slab's
 * labelling in WebAssembly and in JavaScript on the benchmark's lattices, so a change to either
 * loop can be measured (and profiled with `node --cpu-prof`) without the barriers and the peers.
 *
 *   node --import tsx bench/lattice/components-micro.ts [side] [dims]
 */
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { FinishedClusters } from '../../worker/kernels/finished-clusters.ts';
import { labelSlabRuns, type SlabLabelling } from '../../worker/kernels/run-labelling.ts';
import { labelSlabRunsWasm } from '../../worker/kernels/run-labelling-wasm.ts';
import { planSlabs } from '../../worker/kernels/slabs.ts';

const side = Number(process.argv[2] ?? 200);
const dims = Number(process.argv[3] ?? 3);
const cpuMs = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

const rows: Record<string, unknown>[] = [];
for (const density of [0.2, 0.69]) {
  const lattice = resolveLattice({ dimensions: dims, size: side, obstacles: { density, seed: 7 } });
  const own = planSlabs(lattice, 1)[0]!;
  const rowCells = lattice.strides[0]!;
  const row: Record<string, unknown> = { side, dims, density };
  for (const [name, label] of [
    ['wasm', labelSlabRunsWasm],
    ['js', labelSlabRuns],
  ] as const) {
    let best = Infinity;
    let answer = {};
    for (let rep = 0; rep < 5; rep++) {
      const job: SlabLabelling = {
        lattice,
        lo: own.lo,
        rows: own.rows,
        row0: own.row0,
        faceLabels: new Int32Array(2 * rowCells),
        faceSizes: new Float64Array(2 * rowCells),
        faceFlags: new Uint8Array(2 * rowCells),
        finished: new FinishedClusters(),
        tick: () => {},
      };
      const started = cpuMs();
      const labelled = label(job);
      best = Math.min(best, cpuMs() - started);
      answer = { finished: job.finished.count, largest_finished: job.finished.largest, face: labelled.faceCount };
    }
    row[name] = { best_ms: Math.round(best), ns_per_cell: Number(((best * 1e6) / own.cells).toFixed(2)), ...answer };
  }
  rows.push(row);
}
console.log(JSON.stringify(rows));
