/**
 * Connected components of one slab in WebAssembly (worker/kernels/wasm/run-labelling.wat): the
 * algorithm of run-labelling.ts, with the per-row work (runs, joins, union-find, renumbering and
 * the finished clusters' counts) in the module and the row's open bits written straight into its
 * memory. The slab's first and last rows (the faces) are read back here. One instance per run
 * (the thread's kept one, kept-wasm-memory.ts), its memory laid out by
 * shared/lattice/run-labelling-layout.ts, so a job's memory reservation counts exactly what it takes. See docs/architecture.md › Kernels.
 */
import { runLabellingLayout, type RunLabellingLayout } from '../../shared/lattice/run-labelling-layout.ts';
import { HISTOGRAM_BINS } from './finished-clusters.ts';
import { fillOpenLines } from './open-mask.ts';
import { FIRST_ROW, LAST_ROW, type SlabLabelling } from './run-labelling.ts';
import { KeptInstances } from './kept-wasm-memory.ts';
import { compileWasm, type WasmMemory } from './wasm-runtime.ts';
import { mark } from './timeline-marks.ts';

interface LabellingExports {
  memory: WasmMemory;
  init(...layout: number[]): void;
  alive(): number;
  row(cur: number, prev: number, first: number): number;
  fillProcedural(block: number, h0: number, threshold: number): void;
  setFull(prevFirst: number, prevList: number): void;
}

const TWO_POW_32 = 4294967296;

let compiled: object | null = null;

/** The assembled module, compiled once per thread. */
function labellingModule(): object {
  compiled ??= compileWasm(new URL('./wasm/run-labelling.wasm', import.meta.url));
  return compiled;
}

/** The thread's spare instance (kept-wasm-memory.ts): its mapped pages outlive a run. */
export const keptLabelling = new KeptInstances<LabellingExports>(labellingModule);

/**
 * Labels a slab of a lattice of 2 or more axes whose layout fits a WebAssembly memory
 * (`labellingWasmFits`), with the same outputs as `labelSlabRuns`.
 *
 * @returns the face clusters, and the bytes this allocated (the module's memory included)
 */
export function labelSlabRunsWasm(job: SlabLabelling): { faceCount: number; bytes: number; rows: number } {
  const exports = keptLabelling.take(runLabellingLayout(job.lattice.shape, job.full === true).memoryBytes);
  try {
    return labelIn(exports, job);
  } finally {
    // Cancelled or done: the thread's next run may reuse the instance's mapped pages.
    keptLabelling.release(exports);
  }
}

/** `labelSlabRunsWasm` in an instance whose memory holds the layout and reads as zeros. */
function labelIn(exports: LabellingExports, job: SlabLabelling): { faceCount: number; bytes: number; rows: number } {
  const { lattice, lo, row0, faceLabels, faceSizes, faceFlags, finished, tick, claim } = job;
  const step = job.step ?? 1;
  const { shape, strides } = lattice;
  const rowCells = strides[0]!;
  const full = job.full === true;
  const layout = runLabellingLayout(shape, full);
  const { lines, perLine, lineCells, maxRuns, offsets } = layout;
  const wrap = lattice.boundary === 'periodic';

  const buffer = exports.memory.buffer;
  const i32 = new Int32Array(buffer);
  const f64 = new Float64Array(buffer);

  if (full) listFullJoins(i32, layout, shape, wrap);
  else listAxisJoins(i32, layout, shape, wrap);
  i32.fill(-1, layout.remap >> 2, (layout.remap >> 2) + 2 * maxRuns);
  exports.init(
    lines,
    perLine,
    lineCells,
    wrap && lineCells > 2 ? 1 : 0,
    layout.parent,
    layout.size,
    layout.firstOf,
    layout.remap,
    layout.nextSize,
    layout.nextFirst,
    layout.group,
    layout.groupSize,
    layout.joinFirst,
    layout.joinList,
    layout.stats,
    offsets.starts,
    offsets.rank,
    offsets.runStart,
    offsets.runEnd,
    offsets.label,
  );
  if (full) exports.setFull(layout.prevFirst, layout.prevList);

  const words = layout.blocks.map((block) => new Int32Array(buffer, block, lines * perLine));
  /**
   * Writes `values[run]` on the cells of each run of a row into `faceLabels` from `at` (every
   * other cell 0: the buffer may hold an earlier run's faces). `rank[line]` is the line's first
   * run, `runStart`/`runEnd` its cells along the line.
   */
  const paintRuns = (rank: Int32Array, runStart: Int32Array, runEnd: Int32Array, runs: number, at: number, values: Int32Array): void => {
    faceLabels.fill(0, at, at + rowCells);
    for (let line = 0; line < lines; line++) {
      const last = line + 1 < lines ? rank[(line + 1) * perLine]! : runs;
      const from = at + line * lineCells;
      for (let k = rank[line * perLine]!; k < last; k++) {
        const value = values[k]!;
        const end = from + runEnd[k]!;
        for (let cell = from + runStart[k]!; cell < end; cell++) faceLabels[cell] = value;
      }
    }
  };
  /** A block's run lists, in place. */
  const runsOf = (block: number, runs: number): { rank: Int32Array; runStart: Int32Array; runEnd: Int32Array } => ({
    rank: i32.subarray((block + offsets.rank) >> 2, ((block + offsets.rank) >> 2) + lines * perLine),
    runStart: i32.subarray((block + offsets.runStart) >> 2, ((block + offsets.runStart) >> 2) + runs),
    runEnd: i32.subarray((block + offsets.runEnd) >> 2, ((block + offsets.runEnd) >> 2) + runs),
  });

  // The procedural rule is hashed in the module, straight into the row's block; other
  // obstacles (and density 0 or 1) are filled by open-mask.ts.
  const obstacles = lattice.obstacles;
  const hashed = obstacles.kind === 'procedural' && obstacles.threshold > 0 && obstacles.threshold < TWO_POW_32;
  let cur = 0;
  let firstRuns = 0;
  // The first row's run lists, copied out of its block (the third row reuses it): its face ids
  // are known only at the end, and it is painted once, then.
  let firstRow: { rank: Int32Array; runStart: Int32Array; runEnd: Int32Array } | null = null;
  let lastRuns = 0;
  let rows = 0;
  mark('init');
  for (; rows < job.rows; rows++) {
    tick(rows);
    if (claim !== undefined && !claim()) break;
    const r = rows;
    const at = lo + step * r * rowCells;
    if (hashed) exports.fillProcedural(layout.blocks[cur]!, (at + obstacles.offset) % TWO_POW_32 | 0, obstacles.threshold | 0);
    else fillOpenLines(words[cur]!, at, lineCells, lines, obstacles);
    lastRuns = exports.row(layout.blocks[cur]!, layout.blocks[1 - cur]!, r === 0 ? 1 : 0);
    if (r === 0) {
      firstRuns = lastRuns;
      const first = runsOf(layout.blocks[0]!, firstRuns);
      firstRow = { rank: first.rank.slice(), runStart: first.runStart.slice(), runEnd: first.runEnd.slice() };
    }
    cur = 1 - cur;
  }

  mark('rows');
  if (rows === 0) {
    // Another thread took every row: no cells, no faces.
    faceLabels.fill(0, 0, 2 * rowCells);
    return { faceCount: 0, bytes: layout.memoryBytes, rows };
  }
  const stats = layout.stats >> 3;
  finished.addCounts(f64[stats]!, f64[stats + 1]!, f64.subarray(stats + 2, stats + 2 + HISTOGRAM_BINS));

  // Face ids: the clusters alive on the last row keep their ids; finished first-row groups follow.
  // A face row's flags: whether it is the first and/or the last row of axis 0.
  const edgeFlags = (row: number): number => (row === 0 ? FIRST_ROW : 0) | (row === shape[0]! - 1 ? LAST_ROW : 0);
  const firstRowFlag = edgeFlags(row0);
  const lastRowFlag = edgeFlags(row0 + step * (rows - 1));
  const size = layout.size >> 3;
  const firstOf = layout.firstOf >> 2;
  const group = layout.group >> 2;
  const groupSize = layout.groupSize >> 3;
  const findGroup = (g: number): number => {
    while (i32[group + g] !== g) {
      const up = i32[group + i32[group + g]!]!;
      i32[group + g] = up;
      g = up;
    }
    return g;
  };
  const groupFace = new Int32Array(firstRuns).fill(-1);
  const alive = exports.alive();
  let faceCount = 0;
  for (let id = 0; id < alive; id++) {
    const first = i32[firstOf + id]!;
    faceSizes[faceCount] = f64[size + id]!;
    faceFlags[faceCount] = lastRowFlag | (first >= 0 ? firstRowFlag : 0);
    if (first >= 0) groupFace[findGroup(first)] = faceCount;
    faceCount++;
  }
  for (let g = 0; g < firstRuns; g++) {
    if (i32[group + g] !== g || groupFace[g]! >= 0) continue;
    faceSizes[faceCount] = f64[groupSize + g]!;
    faceFlags[faceCount] = firstRowFlag;
    groupFace[g] = faceCount++;
  }
  // Face labels are face ids + 1 (0: blocked). The first row's runs by their groups: each run's
  // face label in the module's next-size area (unused after the last row), painted on its cells.
  const firstFace = i32.subarray(layout.nextSize >> 2, (layout.nextSize >> 2) + firstRuns);
  for (let run = 0; run < firstRuns; run++) firstFace[run] = groupFace[findGroup(run)]! + 1;
  const first = firstRow!;
  paintRuns(first.rank, first.runStart, first.runEnd, firstRuns, 0, firstFace);
  // The last row (its block still in the module) by its runs' live ids, which are their face ids:
  // 1 + id, in place (the module renumbers the next run's rows afresh).
  const lastRow = runsOf(layout.blocks[1 - cur]!, lastRuns);
  const lastFace = i32.subarray((layout.blocks[1 - cur]! + offsets.label) >> 2, ((layout.blocks[1 - cur]! + offsets.label) >> 2) + lastRuns);
  for (let run = 0; run < lastRuns; run++) lastFace[run]!++;
  paintRuns(lastRow.rank, lastRow.runStart, lastRow.runEnd, lastRuns, rowCells, lastFace);
  mark('faces');
  // The layout's pages only: a kept memory may be larger (per-thread headroom).
  // The groups' face ids and the first row's run lists beside the module's memory.
  return { faceCount, bytes: layout.memoryBytes + groupFace.byteLength + first.rank.byteLength + first.runStart.byteLength + first.runEnd.byteLength, rows };
}

/**
 * Per line, the lines of the same row it joins under the `axis` connectivity: the previous line
 * along each middle axis, and across a periodic middle axis's seam.
 */
function listAxisJoins(i32: Int32Array, layout: RunLabellingLayout, shape: readonly number[], wrap: boolean): void {
  const { lines } = layout;
  const joinFirst = layout.joinFirst >> 2;
  const joinList = layout.joinList >> 2;
  const midAxes = shape.length - 2;
  // Line strides along the middle axes (axis d-2 is the fastest).
  const stride = lineStrides(shape);
  const coords = new Float64Array(midAxes);
  let listed = 0;
  for (let line = 0; line < lines; line++) {
    i32[joinFirst + line] = listed;
    for (let k = 0; k < midAxes; k++) {
      const x = coords[k]!;
      if (x > 0) i32[joinList + listed++] = line - stride[k]!;
      if (wrap && x === shape[k + 1]! - 1 && x > 1) i32[joinList + listed++] = line - x * stride[k]!;
    }
    for (let k = midAxes - 1; k >= 0; k--) {
      if (++coords[k]! < shape[k + 1]!) break;
      coords[k] = 0;
    }
  }
  i32[joinFirst + lines] = listed;
}

/** Per middle axis (1..d−2), the lines between two neighbours along it. */
function lineStrides(shape: readonly number[]): number[] {
  const midAxes = shape.length - 2;
  const stride = new Array<number>(midAxes).fill(1);
  for (let k = midAxes - 2; k >= 0; k--) stride[k] = stride[k + 1]! * shape[k + 2]!;
  return stride;
}

/**
 * The `full` connectivity's join lists: per line, the lines of the same row around it that come
 * before it (each pair of lines once), and the previous row's lines around it and its own; a
 * line is around another when every middle coordinate differs by at most one (across the seam of
 * a periodic axis), each listed once however the seams fold.
 */
function listFullJoins(i32: Int32Array, layout: RunLabellingLayout, shape: readonly number[], wrap: boolean): void {
  const { lines } = layout;
  const d = shape.length;
  const midAxes = d - 2;
  const joinFirst = layout.joinFirst >> 2;
  const joinList = layout.joinList >> 2;
  const prevFirst = layout.prevFirst >> 2;
  const prevList = layout.prevList >> 2;
  const stride = lineStrides(shape);
  const coords = new Array<number>(midAxes).fill(0);
  const offsets = 3 ** midAxes;
  const seen = new Set<number>();
  let joins = 0;
  let prevs = 0;
  for (let line = 0; line < lines; line++) {
    i32[joinFirst + line] = joins;
    i32[prevFirst + line] = prevs;
    seen.clear();
    for (let o = 0; o < offsets; o++) {
      let other = 0;
      let rest = o;
      for (let k = midAxes - 1; k >= 0 && other >= 0; k--) {
        const side = shape[k + 1]!;
        let x = coords[k]! + (rest % 3) - 1;
        rest = Math.floor(rest / 3);
        if (x < 0 || x >= side) {
          if (!wrap) other = -1;
          x = (x + side) % side;
        }
        if (other >= 0) other += x * stride[k]!;
      }
      if (other < 0 || seen.has(other)) continue;
      seen.add(other);
      i32[prevList + prevs++] = other;
      if (other < line) i32[joinList + joins++] = other;
    }
    for (let k = midAxes - 1; k >= 0; k--) {
      if (++coords[k]! < shape[k + 1]!) break;
      coords[k] = 0;
    }
  }
  i32[joinFirst + lines] = joins;
  i32[prevFirst + lines] = prevs;
}
