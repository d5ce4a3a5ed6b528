/**
 * Connected components of one slab by runs of open cells, streaming row by row along axis 0 with
 * union-find per run and two rows of runs alive; clusters touching the slab's first or last row go to
 * the face buffers for the merge across slabs. See docs/architecture.md › Kernels.
 */
import type { Lattice } from '../../shared/lattice/types.ts';
import type { FinishedClusters } from './finished-clusters.ts';
import { fillOpenBytes, fillOpenLines, lineWords } from './open-mask.ts';

/** Face flags: the cluster has a cell on the first, or the last, row of axis 0. */
export const FIRST_ROW = 1;
export const LAST_ROW = 2;

/** Where a slab's labelling writes, and how it reports. */
export interface SlabLabelling {
  lattice: Lattice;
  /** First global cell of the slab, its rows, and its first global row. */
  lo: number;
  rows: number;
  row0: number;
  /**
   * The WebAssembly labelling only: -1 labels rows `row0, row0 - 1, …` (`lo` is still row0's first
   * cell), so two threads can start from the two ends of a range of rows. 1 when absent.
   */
  step?: 1 | -1;
  /**
   * The WebAssembly labelling only: asked before each row; false ends the slab there, with the
   * rows labelled so far (possibly none). Every row when absent.
   */
  claim?: () => boolean;
  /** Int32, first row's cells then last row's (in labelling order): 1 + face id, 0 for none. */
  faceLabels: Int32Array;
  faceSizes: Float64Array;
  faceFlags: Uint8Array;
  /** Where finished clusters (touching neither face) are counted. */
  finished: FinishedClusters;
  /** Called before each row with the rows done; may throw to stop. */
  tick: (rowsDone: number) => void;
  /** The `full` connectivity (diagonal neighbours): served by the WebAssembly labelling only. */
  full?: boolean;
}

/** Per-thread arrays, sized by the row; reused across rows. */
class RowRuns {
  /** Run bounds as coordinates on their line, [start, end). */
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** The run's union-find node while its row is built, then its cluster's compact id. */
  readonly label: Int32Array;
  /** Runs of line k are [lineFirst[k], lineFirst[k + 1]). */
  readonly lineFirst: Int32Array;
  /** The row's open cells, line by line (open-mask.ts layout). */
  readonly words: Int32Array;
  /** The first cell of each run, in the same layout. */
  readonly starts: Int32Array;
  /** Per word, the row's runs that start before it: a run's number is a rank in `starts`. */
  readonly rank: Int32Array;
  count = 0;

  constructor(maxRuns: number, lines: number, perLine: number) {
    this.start = new Int32Array(maxRuns);
    this.end = new Int32Array(maxRuns);
    this.label = new Int32Array(maxRuns);
    this.lineFirst = new Int32Array(lines + 1);
    this.words = new Int32Array(lines * perLine);
    this.starts = new Int32Array(lines * perLine);
    this.rank = new Int32Array(lines * perLine);
  }

  get bytes(): number {
    return this.start.byteLength * 3 + this.lineFirst.byteLength + this.words.byteLength * 3;
  }
}

/**
 * Labels a slab; finished clusters go to `finished`, face clusters to the face buffers.
 *
 * @returns the face clusters, and the bytes of the arrays this allocated
 */
export function labelSlabRuns(job: SlabLabelling): { faceCount: number; bytes: number } {
  if ((job.step ?? 1) !== 1 || job.claim !== undefined) throw new RangeError('the JavaScript labelling labels whole slabs upwards only');
  if (job.lattice.shape.length === 1) return labelChain(job);
  const { lattice, lo, rows, row0, faceLabels, faceSizes, faceFlags, finished, tick } = job;
  const { shape, strides } = lattice;
  const d = shape.length;
  const rowCells = strides[0]!;
  const wrap = lattice.boundary === 'periodic';
  const lineCells = d > 1 ? shape[d - 1]! : 1;
  const lines = rowCells / lineCells;
  const wrapLine = wrap && lineCells > 2;
  // Middle axes 1..d-2, in lines: where the previous line along each is, and when to wrap.
  const midAxes = Math.max(0, d - 2);
  const midStride = new Float64Array(midAxes);
  const midSide = new Float64Array(midAxes);
  for (let k = 0; k < midAxes; k++) {
    midStride[k] = strides[k + 1]! / lineCells;
    midSide[k] = shape[k + 1]!;
  }
  const coords = new Float64Array(midAxes);
  const firstRowFlag = row0 === 0 ? FIRST_ROW : 0;
  const lastRowFlag = row0 + rows === shape[0]! ? LAST_ROW : 0;

  const maxRuns = lines * Math.ceil(lineCells / 2);
  const perLine = lineWords(lineCells);
  let cur = new RowRuns(maxRuns, lines, perLine);
  let prev = new RowRuns(maxRuns, lines, perLine);
  // Union-find over the previous row's clusters (nodes 0..alive-1) and this row's runs after them.
  const parent = new Int32Array(2 * maxRuns);
  const size = new Float64Array(2 * maxRuns);
  /** A first-row run in the node's cluster (its face group), or -1. */
  const firstOf = new Int32Array(2 * maxRuns);
  const remap = new Int32Array(2 * maxRuns).fill(-1);
  const nextSize = new Float64Array(maxRuns);
  const nextFirst = new Int32Array(maxRuns);
  // Face groups: the first row's runs, joined as their clusters join.
  const group = new Int32Array(maxRuns);
  const groupSize = new Float64Array(maxRuns);
  const groupFace = new Int32Array(maxRuns);
  let firstRuns = 0;
  let alive = 0;

  const find = (node: number): number => {
    while (parent[node] !== node) {
      const up = parent[parent[node]!]!;
      parent[node] = up;
      node = up;
    }
    return node;
  };
  const findGroup = (g: number): number => {
    while (group[g] !== g) {
      const up = group[group[g]!]!;
      group[g] = up;
      g = up;
    }
    return g;
  };
  const union = (a: number, b: number): void => {
    let ra = find(a);
    let rb = find(b);
    if (ra === rb) return;
    // The older (smaller) node stays the root: the previous row's clusters are roots already.
    if (rb < ra) {
      const t = ra;
      ra = rb;
      rb = t;
    }
    parent[rb] = ra;
    size[ra]! += size[rb]!;
    const fb = firstOf[rb]!;
    if (fb >= 0) {
      const fa = firstOf[ra]!;
      if (fa < 0) firstOf[ra] = fb;
      else {
        const ga = findGroup(fa);
        const gb = findGroup(fb);
        if (ga !== gb) group[gb] = ga;
      }
    }
  };
  /**
   * Joins the runs of line `la` of this row with the runs they overlap on line `lb` of `other`:
   * this row (`nodes` null: run j is node alive + j) or the previous row (`nodes` its labels).
   * Word-parallel: every overlap is a run of (line a AND line b), and the two runs it lies in
   * are found by rank in the start planes, so runs that overlap nothing cost nothing.
   */
  const joinLines = (la: number, other: RowRuns, nodes: Int32Array | null, lb: number): void => {
    const aWords = cur.words;
    const aStarts = cur.starts;
    const aRank = cur.rank;
    const bWords = other.words;
    const bStarts = other.starts;
    const bRank = other.rank;
    const base = alive;
    const wa = la * perLine;
    const wb = lb * perLine;
    let carry = 0;
    for (let i = 0; i < perLine; i++) {
      const both = aWords[wa + i]! & bWords[wb + i]!;
      let first = both & ~((both << 1) | carry);
      carry = both >>> 31;
      while (first !== 0) {
        const low = first & -first;
        first ^= low;
        const upTo = ((low << 1) - 1) | 0;
        const ra = aRank[wa + i]! + popcount(aStarts[wa + i]! & upTo) - 1;
        const rb = bRank[wb + i]! + popcount(bStarts[wb + i]! & upTo) - 1;
        union(base + ra, nodes === null ? base + rb : nodes[rb]!);
      }
    }
  };

  for (let r = 0; r < rows; r++) {
    tick(r);
    const bits = cur.words;
    fillOpenLines(bits, lo + r * rowCells, lineCells, lines, lattice.obstacles);
    // Run starts and their ranks, for the word-parallel joins.
    const starts = cur.starts;
    const rank = cur.rank;
    let ranked = 0;
    for (let line = 0, w = 0; line < lines; line++) {
      let carry = 0;
      for (let i = 0; i < perLine; i++, w++) {
        const word = bits[w]!;
        const first = word & ~((word << 1) | carry);
        carry = word >>> 31;
        starts[w] = first;
        rank[w] = ranked;
        ranked += popcount(first);
      }
    }
    // Runs, line by line, a word at a time: each run costs two bit searches, not a test per cell.
    const runStart = cur.start;
    const runEnd = cur.end;
    const lineFirst = cur.lineFirst;
    let n = 0;
    for (let line = 0; line < lines; line++) {
      lineFirst[line] = n;
      const w0 = line * perLine;
      const w1 = w0 + perLine;
      let w = w0;
      let word = bits[w]!;
      for (;;) {
        while (word === 0 && ++w < w1) word = bits[w]!;
        if (word === 0) break;
        const s = ((w - w0) << 5) + 31 - Math.clz32(word & -word);
        // The first blocked cell after s: past the line's end the bits are 0, so one exists.
        let gap = ~bits[w]! & (-1 << (s & 31));
        while (gap === 0 && ++w < w1) gap = ~bits[w]!;
        const e = w < w1 ? ((w - w0) << 5) + 31 - Math.clz32(gap & -gap) : lineCells;
        runStart[n] = s;
        runEnd[n] = e;
        n++;
        if (e >= lineCells) break;
        word = bits[w]! & (-1 << (e & 31));
      }
    }
    lineFirst[lines] = n;
    cur.count = n;
    for (let k = 0; k < n; k++) {
      const node = alive + k;
      parent[node] = node;
      size[node] = runEnd[k]! - runStart[k]!;
      firstOf[node] = r === 0 ? k : -1;
    }
    if (r === 0) {
      firstRuns = n;
      for (let k = 0; k < n; k++) {
        group[k] = k;
        groupFace[k] = -1;
      }
      for (let line = 0; line < lines; line++) {
        for (let k = lineFirst[line]!; k < lineFirst[line + 1]!; k++) {
          faceLabels.fill(k + 1, line * lineCells + runStart[k]!, line * lineCells + runEnd[k]!);
        }
      }
    }
    // Joins: periodic last axis, middle axes within the row, then the previous row.
    coords.fill(0);
    for (let line = 0; line < lines; line++) {
      const a0 = lineFirst[line]!;
      const a1 = lineFirst[line + 1]!;
      if (a1 > a0) {
        if (wrapLine && a1 - a0 > 1 && runStart[a0] === 0 && runEnd[a1 - 1] === lineCells) union(alive + a0, alive + a1 - 1);
        for (let k = 0; k < midAxes; k++) {
          const x = coords[k]!;
          if (x > 0) joinLines(line, cur, null, line - midStride[k]!);
          if (wrap && x === midSide[k]! - 1 && x > 1) joinLines(line, cur, null, line - x * midStride[k]!);
        }
        if (r > 0) joinLines(line, prev, prev.label, line);
      }
      for (let k = midAxes - 1; k >= 0; k--) {
        if (++coords[k]! < midSide[k]!) break;
        coords[k] = 0;
      }
    }
    // Renumber this row's clusters 0..m-1; the previous row's clusters no run joined are done.
    let m = 0;
    const label = cur.label;
    for (let k = 0; k < n; k++) {
      const root = find(alive + k);
      let id = remap[root]!;
      if (id < 0) {
        id = m++;
        remap[root] = id;
        nextSize[id] = size[root]!;
        nextFirst[id] = firstOf[root]!;
      }
      label[k] = id;
    }
    for (let c = 0; c < alive; c++) {
      const root = find(c);
      if (remap[root] !== -1) continue;
      remap[root] = -2;
      const first = firstOf[root]!;
      if (first >= 0) groupSize[findGroup(first)] = size[root]!;
      else finished.add(size[root]!);
    }
    remap.fill(-1, 0, alive + n);
    for (let id = 0; id < m; id++) {
      parent[id] = id;
      size[id] = nextSize[id]!;
      firstOf[id] = nextFirst[id]!;
    }
    alive = m;
    const done = prev;
    prev = cur;
    cur = done;
  }

  // Face ids: the clusters alive on the last row keep their ids; finished first-row groups follow.
  let faceCount = 0;
  for (let id = 0; id < alive; id++) {
    const first = firstOf[id]!;
    faceSizes[faceCount] = size[id]!;
    faceFlags[faceCount] = lastRowFlag | (first >= 0 ? firstRowFlag : 0);
    if (first >= 0) groupFace[findGroup(first)] = faceCount;
    faceCount++;
  }
  for (let g = 0; g < firstRuns; g++) {
    if (group[g] !== g || groupFace[g]! >= 0) continue;
    faceSizes[faceCount] = groupSize[g]!;
    faceFlags[faceCount] = firstRowFlag;
    groupFace[g] = faceCount++;
  }
  for (let cell = 0; cell < rowCells; cell++) {
    const run = faceLabels[cell]!;
    if (run !== 0) faceLabels[cell] = groupFace[findGroup(run - 1)]! + 1;
  }
  // `prev` now holds the last row's runs, labelled with the live ids (= their face ids).
  for (let line = 0; line < lines; line++) {
    for (let k = prev.lineFirst[line]!; k < prev.lineFirst[line + 1]!; k++) {
      const from = rowCells + line * lineCells;
      faceLabels.fill(prev.label[k]! + 1, from + prev.start[k]!, from + prev.end[k]!);
    }
  }
  const bytes =
    cur.bytes +
    prev.bytes +
    parent.byteLength +
    size.byteLength +
    firstOf.byteLength +
    remap.byteLength +
    nextSize.byteLength +
    nextFirst.byteLength +
    group.byteLength +
    groupSize.byteLength +
    groupFace.byteLength;
  return { faceCount, bytes };
}

/** Set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Cells of a 1-D slab materialised at a time. */
const CHAIN_CHUNK = 65536;

/**
 * A 1-D slab: a row is one cell, so the clusters are the runs of open cells, read straight off
 * the mask (row-by-row bookkeeping would cost more than the cells).
 */
function labelChain(job: SlabLabelling): { faceCount: number; bytes: number } {
  const { lattice, lo, rows, row0, faceLabels, faceSizes, faceFlags, finished, tick } = job;
  const firstRowFlag = row0 === 0 ? FIRST_ROW : 0;
  const lastRowFlag = row0 + rows === lattice.shape[0]! ? LAST_ROW : 0;
  const mask = new Uint8Array(Math.min(rows, CHAIN_CHUNK));
  let faceCount = 0;
  const close = (size: number, first: boolean, last: boolean): void => {
    if (!first && !last) {
      finished.add(size);
      return;
    }
    faceSizes[faceCount] = size;
    faceFlags[faceCount] = (first ? firstRowFlag : 0) | (last ? lastRowFlag : 0);
    faceCount++;
    // The first row's cell is face cell 0, the last row's is face cell 1 (rows of one cell).
    if (first) faceLabels[0] = faceCount;
    if (last) faceLabels[1] = faceCount;
  };
  let run = 0;
  let fromStart = true;
  for (let at = 0; at < rows; at += CHAIN_CHUNK) {
    tick(at);
    const count = Math.min(CHAIN_CHUNK, rows - at);
    fillOpenBytes(mask, 0, lo + at, count, lattice.obstacles);
    for (let i = 0; i < count; i++) {
      if (mask[i] !== 0) {
        run++;
      } else {
        if (run > 0) close(run, fromStart, false);
        run = 0;
        fromStart = false;
      }
    }
  }
  if (run > 0) close(run, fromStart, true);
  return { faceCount, bytes: mask.byteLength };
}
