/**
 * The WebAssembly labelling of one whole 3-D lattice (one slab, one thread) in two checkouts,
 * interleaved run by run in one process (order swapped every run), so a change to
 * `wasm/run-labelling.wat` is measured against another checkout under the same load. CPU ms of
 * each run (best, first quartile, median) and whether the answers (finished clusters, largest,
 * face clusters and their total size) agree.
 *
 *   node --import tsx bench/lattice/components-labelling-ab.ts DIR_A DIR_B [density] [runs] [side]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Labelling {
  label: (job: object) => { faceCount: number };
  Finished: new () => { count: number; largest: number };
  lattice: { strides: number[] };
}

const [dirA, dirB] = [process.argv[2] ?? '.', process.argv[3] ?? '.'];
const density = Number(process.argv[4] ?? 0.2);
const runs = Number(process.argv[5] ?? 20);
const side = Number(process.argv[6] ?? 200);

const load = async (dir: string): Promise<Labelling> => {
  const from = (file: string): Promise<Record<string, unknown>> => import(pathToFileURL(resolve(dir, file)).href) as Promise<Record<string, unknown>>;
  const resolveLattice = (await from('shared/lattice/resolve.ts'))['resolveLattice'] as (spec: object) => Labelling['lattice'];
  return {
    label: (await from('worker/kernels/run-labelling-wasm.ts'))['labelSlabRunsWasm'] as Labelling['label'],
    Finished: (await from('worker/kernels/finished-clusters.ts'))['FinishedClusters'] as Labelling['Finished'],
    lattice: resolveLattice({ dimensions: 3, size: side, obstacles: { density, seed: 7 } }),
  };
};
const checkouts = [await load(dirA), await load(dirB)];
const times: number[][] = [[], []];
const answers = ['', ''];
for (let run = 0; run < runs; run++) {
  for (const which of run % 2 === 0 ? [0, 1] : [1, 0]) {
    const { label, Finished, lattice } = checkouts[which]!;
    const rowCells = lattice.strides[0]!;
    const job = {
      lattice,
      lo: 0,
      rows: side,
      row0: 0,
      faceLabels: new Int32Array(2 * rowCells),
      faceSizes: new Float64Array(2 * rowCells),
      faceFlags: new Uint8Array(2 * rowCells),
      finished: new Finished(),
      tick: () => {},
    };
    const before = process.cpuUsage();
    const { faceCount } = label(job);
    const used = process.cpuUsage(before);
    times[which]!.push((used.user + used.system) / 1000);
    const faceCells = job.faceSizes.subarray(0, faceCount).reduce((sum, size) => sum + size, 0);
    answers[which] = JSON.stringify([job.finished.count, job.finished.largest, faceCount, faceCells]);
  }
}
const at = (list: number[], q: number): number => Number([...list].sort((a, b) => a - b)[Math.floor(q * (list.length - 1))]!.toFixed(1));
const summary = (list: number[]) => ({ best_cpu_ms: at(list, 0), q25_cpu_ms: at(list, 0.25), median_cpu_ms: at(list, 0.5) });
console.log(JSON.stringify({ side, density, runs, a: { dir: dirA, ...summary(times[0]!) }, b: { dir: dirB, ...summary(times[1]!) }, same_answers: answers[0] === answers[1] }));
