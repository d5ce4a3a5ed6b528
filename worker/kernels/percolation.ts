/**
 * Percolation curves in one run (Newman–Ziff): the procedural rule blocks cell i at density p
 * when h(i) < floor(p · 2^32), so as p falls the cells open in descending order of their hash.
 * The run sorts the cells by hash once (two 16-bit radix passes), then opens them in that order,
 * joining each to its open neighbours by union-find with cluster sizes and axis-0 face flags, and
 * records the largest cluster and whether one spans axis 0 at each sampled density. One thread.
 */
import { seedOffset, blockThreshold, lowbias32 } from '../../shared/lattice/lowbias32.ts';
import type { ResolvedPercolation } from '../../shared/lattice/job.ts';
import type { Lattice, PercolationResult } from '../../shared/lattice/types.ts';
import type { JobControl } from './job-control.ts';
import { InteriorSteps } from './neighbour-steps.ts';

/** Cells handled between two cancel checks. */
const CHECK_CELLS = 65536;
const TWO_POW_32 = 2 ** 32;

/** What the thread returns. */
export interface PercolationOutcome {
  result: Omit<PercolationResult, 'memory_bytes'>;
  bytes: number;
  build_ms: number;
}

/** The cell indices sorted by `hash`, ascending (hashes are distinct: the rule is a bijection). */
function sortByHash(hash: Uint32Array, order: Uint32Array, scratch: Uint32Array, checkpoint: () => void): void {
  const counts = new Uint32Array(65536);
  // Two stable passes: by the low 16 bits into scratch, then by the high 16 bits into order.
  for (const [shift, from, into] of [
    [0, null, scratch],
    [16, scratch, order],
  ] as const) {
    counts.fill(0);
    for (let i = 0; i < hash.length; i++) counts[(hash[i]! >>> shift) & 0xffff]!++;
    for (let b = 0, sum = 0; b < 65536; b++) [counts[b], sum] = [sum, sum + counts[b]!];
    for (let k = 0; k < hash.length; k++) {
      if ((k & 0xfffff) === 0) checkpoint();
      const cell = from === null ? k : from[k]!;
      into[counts[(hash[cell]! >>> shift) & 0xffff]!++] = cell;
    }
  }
}

export function percolation(lattice: Lattice, params: ResolvedPercolation, control: JobControl): PercolationOutcome {
  const started = performance.now();
  const cells = lattice.cells;
  const offset = seedOffset(params.seed);
  const hash = new Uint32Array(cells);
  for (let i = 0; i < cells; i++) {
    if ((i & 0xfffff) === 0) control.checkpoint();
    hash[i] = lowbias32((i + offset) >>> 0);
  }
  const order = new Uint32Array(cells);
  // The radix passes' scratch becomes the cluster sizes afterwards.
  const sizes = new Uint32Array(cells);
  control.publishProgress(0.05);
  sortByHash(hash, order, sizes, () => control.checkpoint());
  control.checkpoint();
  control.publishProgress(0.1);
  sizes.fill(0);
  const build_ms = performance.now() - started;

  // parent[i] = -1 while i is blocked; a root is its own parent.
  const parent = new Int32Array(cells).fill(-1);
  const flags = new Uint8Array(cells);
  const find = (i: number): number => {
    let root = i;
    while (parent[root] !== root) root = parent[root]!;
    while (parent[i] !== root) {
      const up = parent[i]!;
      parent[i] = root;
      i = up;
    }
    return root;
  };
  const rowCells = lattice.strides[0]!;
  const lastRow = lattice.shape[0]! - 1;
  const steps = new InteriorSteps(lattice, 'axis');
  const around = new Int32Array(steps.max);
  let largest = 0;
  // The hash of the cell whose opening first joined the two faces of axis 0; -1 while none has.
  let spanningHash = -1;
  let opened = 0;
  const points: PercolationResult['points'] = [];
  // Densities from 1 (everything blocked) down to 0: each point opens the cells its threshold admits.
  for (let k = params.points - 1; k >= 0; k--) {
    const density = k / (params.points - 1);
    const threshold = blockThreshold(density);
    while (opened < cells && hash[order[cells - 1 - opened]!]! >= threshold) {
      const cell = order[cells - 1 - opened]!;
      opened++;
      parent[cell] = cell;
      sizes[cell] = 1;
      const row = Math.floor(cell / rowCells);
      flags[cell] = (row === 0 ? 1 : 0) | (row === lastRow ? 2 : 0);
      let root = cell;
      const count = steps.fill(cell, around);
      for (let j = 0; j < count; j++) {
        const neighbour = around[j]!;
        if (parent[neighbour] === -1) continue;
        const other = find(neighbour);
        if (other === root) continue;
        // Union by size: the smaller tree hangs under the larger.
        const otherBigger = sizes[other]! >= sizes[root]!;
        const big = otherBigger ? other : root;
        const small = otherBigger ? root : other;
        parent[small] = big;
        sizes[big]! += sizes[small]!;
        flags[big]! |= flags[small]!;
        root = big;
      }
      if (sizes[root]! > largest) largest = sizes[root]!;
      if (spanningHash < 0 && flags[root] === 3) spanningHash = hash[cell]!;
      if ((opened & (CHECK_CELLS - 1)) === 0) {
        control.checkpoint();
        control.publishProgress(0.1 + (0.85 * opened) / cells);
      }
    }
    points.push({ density, open_cells: opened, largest, largest_fraction: largest / cells, spans_axis0: spanningHash >= 0 });
  }
  points.reverse();
  control.checkpoint();
  return {
    result: {
      seed: params.seed,
      points,
      // Cell c is open iff floor(p·2^32) ≤ h(c), i.e. p < (h(c) + 1) / 2^32.
      spans_axis0_below_density: spanningHash < 0 ? null : (spanningHash + 1) / TWO_POW_32,
    },
    bytes: hash.byteLength + order.byteLength + sizes.byteLength + parent.byteLength + flags.byteLength + 65536 * 4,
    build_ms,
  };
}
