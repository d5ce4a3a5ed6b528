/**
 * Where the components kernel's WebAssembly labelling (worker/kernels/run-labelling-wasm.ts) keeps
 * its arrays in its memory. It depends on the lattice's shape only, so the memory a job reserves
 * (working-memory.ts) is computed from the same layout the kernel allocates: everything is sized
 * by one row of axis 0, never by the slab.
 */

/** Bytes of a WebAssembly page. */
const PAGE_BYTES = 65536;
/** The most memory a slab's instance may take; a larger row keeps the JavaScript labelling. */
export const MAX_LABELLING_WASM_BYTES = 2 ** 31;
/** Float64 slots of the finished-cluster counts: count, largest, then 33 log2 bins. */
export const LABELLING_STATS_SLOTS = 2 + 33;

/** Byte addresses of the module's arrays (union-find arrays per node, row blocks per row). */
export interface RunLabellingLayout {
  /** Lines of a row (cells along the last axis), words per line, cells per line. */
  lines: number;
  perLine: number;
  lineCells: number;
  /** Most runs a row can hold: half its cells, rounded up per line. */
  maxRuns: number;
  stats: number;
  /** Float64 per node. */
  size: number;
  nextSize: number;
  groupSize: number;
  /** Int32 per node. */
  parent: number;
  firstOf: number;
  remap: number;
  nextFirst: number;
  group: number;
  /** Int32: per line its first entry in `joinList` (lines + 1 of them), then the list. */
  joinFirst: number;
  joinList: number;
  /** Int32, the `full` connectivity only: per line its first entry in `prevList` (the previous row's lines it joins), then the list. */
  prevFirst: number;
  prevList: number;
  /** The two row blocks (this row, previous row) and the offsets of their arrays. */
  blocks: [number, number];
  offsets: { starts: number; rank: number; runStart: number; runEnd: number; label: number };
  /** Bytes used, and the memory rounded up to whole pages. */
  bytes: number;
  memoryBytes: number;
}

/** Entries past the end of a row's run start and end lists, which the module writes eight at a time. */
const RUN_LIST_SLACK = 8;

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * The layout for a lattice of 2 or more axes; `full` for the `full` connectivity, whose lines
 * join every line around them (3^(d−2) − 1 in the row, 3^(d−2) in the previous row).
 */
export function runLabellingLayout(shape: readonly number[], full = false): RunLabellingLayout {
  const d = shape.length;
  const lineCells = shape[d - 1]!;
  let lines = 1;
  for (let k = 1; k < d - 1; k++) lines *= shape[k]!;
  const perLine = Math.ceil(lineCells / 32);
  const maxRuns = lines * Math.ceil(lineCells / 2);
  const words = lines * perLine;
  // Each middle axis gives a line at most two others to join: the one before it and its seam.
  const around = Math.min(lines, 3 ** Math.max(0, d - 2));
  const joins = full ? lines * around : lines * 2 * Math.max(0, d - 2);
  const prevJoins = full ? lines * around : 0;
  let at = 16;
  const take = (bytes: number): number => {
    const address = at;
    at = align(at + bytes);
    return address;
  };
  const stats = take(8 * LABELLING_STATS_SLOTS);
  const size = take(8 * 2 * maxRuns);
  const nextSize = take(8 * maxRuns);
  const groupSize = take(8 * maxRuns);
  const parent = take(4 * 2 * maxRuns);
  const firstOf = take(4 * 2 * maxRuns);
  const remap = take(4 * 2 * maxRuns);
  const nextFirst = take(4 * maxRuns);
  const group = take(4 * maxRuns);
  const joinFirst = take(4 * (lines + 1));
  const joinList = take(4 * joins);
  const prevFirst = take(full ? 4 * (lines + 1) : 0);
  const prevList = take(4 * prevJoins);
  // The run lists take up to 7 positions past their last run (written eight at a time).
  const runList = align(4 * (maxRuns + RUN_LIST_SLACK));
  const offsets = {
    starts: align(4 * words),
    rank: 2 * align(4 * words),
    runStart: 3 * align(4 * words),
    runEnd: 3 * align(4 * words) + runList,
    label: 3 * align(4 * words) + 2 * runList,
  };
  const blockBytes = offsets.label + align(4 * maxRuns);
  const blocks: [number, number] = [take(blockBytes), take(blockBytes)];
  return {
    lines,
    perLine,
    lineCells,
    maxRuns,
    stats,
    size,
    nextSize,
    groupSize,
    parent,
    firstOf,
    remap,
    nextFirst,
    group,
    joinFirst,
    joinList,
    prevFirst,
    prevList,
    blocks,
    offsets,
    bytes: at,
    memoryBytes: Math.ceil(at / PAGE_BYTES) * PAGE_BYTES,
  };
}

/** Whether a slab of this lattice labels in WebAssembly (2 or more axes, a memory that fits). */
export function labellingWasmFits(shape: readonly number[], full = false): boolean {
  return shape.length >= 2 && runLabellingLayout(shape, full).memoryBytes <= MAX_LABELLING_WASM_BYTES;
}
