/**
 * The memory one job reserves on a worker, computed from its lattice spec and parameters alone,
 * so the API can refuse a job no worker can hold and a worker can decide whether a job fits before
 * it fetches it. See docs/architecture.md › Worker memory.
 */
import { BRICK_MIN_CELLS, MAX_BRICK_PADDING, brickCells } from './brick-padding.ts';
import { MAX_FIELD_VALUES, MAX_PERCOLATION_POINTS, MAX_RETURNED_PATH_CELLS } from './limits.ts';
import { componentLabelBytes } from './label-slabs.ts';
import { labellingWasmFits, runLabellingLayout } from './run-labelling-layout.ts';
import type { Connectivity, KernelType } from './types.ts';

/** What the estimate reads of a job: its shape, explicit obstacle count and diffusion sources. */
export interface JobMemoryInput {
  type: KernelType;
  shape: readonly number[];
  /** Entries of an explicit obstacle list (0 for none or procedural). */
  explicitBlocked: number;
  /** shortest_path: its `pairs` (0 or absent for one path). */
  pairs?: number;
  /** Diffusion sources and initial impulses together; a distance field's source cells. */
  sources?: number;
  /** components and shortest_path: `full` runs in one thread (flood fill, one pair's search). */
  connectivity?: Connectivity;
  /** Whether some axes wrap and others do not: components and shortest_path then run in one thread too. */
  mixedBoundary?: boolean;
  /** distance_field on a cost map: held as a minimum-cost path is. */
  weighted?: boolean;
  /** Whether the obstacles are an uploaded map (its bits, one per cell, are held while the job runs). */
  map?: boolean;
  /** diffusion: whether the whole final field is kept for its `field` artefact (4 bytes a cell). */
  keepsField?: boolean;
}

/** Fewest rows of axis 0 per slab when the pool splits a run (its `minRowsPerSlab` default). */
export const MIN_ROWS_PER_SLAB = 64;

/** Bytes every job costs whatever its size: row, result JSON, promises, buffers' headers. */
const JOB_BASE_BYTES = 256 * 1024;
/** A WebAssembly memory page, and the most a slab's stencil memory may take (diffusion-wasm.ts). */
const WASM_PAGE_BYTES = 64 * 1024;
const WASM_MAX_BYTES = 2 ** 31;
/** Growable queues may hold twice their length. */
const GROWTH = 2;
/** Upper bound of the per-slab counters of the components and diffusion kernels, in float64s. */
const SLAB_COUNTER_SLOTS = 64 + MAX_FIELD_VALUES;
/** What a distance field's WebAssembly memory holds beyond its byte per cell (class-bfs-wasm.ts). */
const DISTANCE_WASM_SLACK = 4 * 1024 * 27 + 16 * 1024 + WASM_PAGE_BYTES;
/**
 * Axes Dial's search in WebAssembly takes (cell-classes.ts's MAX_CLASS_DIMENSIONS), and what its
 * memory holds besides its bytes per cell: at most 80 neighbours', 256 costs' and 65 spare first
 * chunks of 4 KiB, and the class rows (161 ints for each of 4^4 classes).
 */
const DIAL_WASM_MAX_AXES = 4;
const DIAL_WASM_FIXED_BYTES = (80 + 256 + 65) * 4096 + 4 * 161 * 256 + 128;
/** A coordinate list entry in JavaScript: array header plus one number per axis, and its JSON text. */
const coordinateBytes = (d: number): number => 64 + 16 * d;

/** Copies of a path's JSON text a result's write holds at its fullest (see {@link pathBytes}). */
const PATH_TEXT_COPIES = 6;

/**
 * Bytes a path costs its job, from the search to the result's write, for a path of up to
 * MAX_RETURNED_PATH_CELLS cells (and at most the lattice's) on `shape`. A path stays cell indices
 * until it is written (shared/lattice/cell-path.ts): in the thread, the walk-back's halves (up to
 * 12 bytes a cell as JavaScript arrays that grow by half) and the joined uint32 path (4), its copy
 * in the worker's thread (4), the `path` artefact's uint32 rows (4 a coordinate) and
 * PATH_TEXT_COPIES copies of its JSON text (the text written from the cells in a buffer and as a
 * string, the result's JSON around it, the query's message to PostgreSQL, built and copied once
 * more, and one for the garbage the collector has not yet taken back), the text being
 * at most the digits of every axis's largest index, its commas and two brackets a cell.
 * bench/lattice/path-result-memory.ts measures it (docs/performance.md › Path results).
 */
export function pathBytes(shape: readonly number[]): number {
  const cells = shape.reduce((product, side) => product * side, 1);
  const d = shape.length;
  const text = shape.reduce((sum, side) => sum + String(Math.max(0, side - 1)).length, d + 2);
  return Math.min(cells, MAX_RETURNED_PATH_CELLS) * (12 + 4 + 4 + 4 * d + PATH_TEXT_COPIES * text);
}

/**
 * Bytes of a diffusion slab's WebAssembly memory, laid out as diffusion-wasm.ts does: its codes,
 * then either its float32 field (with a halo row either side), two row buffers, a row of zeros
 * and a scratch row, or (while the codes are built) the open mask with a halo row each side and a row of
 * zeros, whichever is longer, with 32 bytes of slack around each region; in whole 64 KiB pages.
 */
function wasmStencilBytes(slabRows: number, rowCells: number): number {
  const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;
  const pad = 32;
  const rowBytes = 4 * rowCells;
  const work = align(2 * pad + slabRows * rowCells);
  const field = work + pad;
  const buffer0 = align(field + (slabRows + 2) * rowBytes + pad) + pad;
  const buffer1 = align(buffer0 + rowBytes + pad) + pad;
  const zero = align(buffer1 + rowBytes + pad) + pad;
  const rows = align(zero + rowBytes + pad) + pad + rowBytes + pad;
  const mask = align(work + (slabRows + 2) * rowCells + pad) + pad + rowCells + pad;
  return Math.ceil(Math.max(rows, mask) / WASM_PAGE_BYTES) * WASM_PAGE_BYTES;
}

/**
 * Bytes the one-thread kernels (distance_field, min_cost_path) allocate beyond the job's base: a
 * byte per cell (open mask, or costs), float64 distances for min_cost_path, and frontier lists of
 * 4-byte cells (grown by doubling) sized for the largest of a layer across the lattice and the
 * sources. The pool refuses a run past its memory limit with the same figure.
 */
export function oneThreadKernelBytes(type: 'distance_field' | 'min_cost_path' | 'shortest_path' | 'percolation' | 'components', shape: readonly number[], sources: number): number {
  const cells = shape.reduce((product, side) => product * side, 1);
  const shortest = Math.min(...shape);
  const d = shape.length;
  // A layer of a breadth-first search is at most about 2·d cross-sections of the lattice (a face
  // of sources is one); the shortest side gives the largest cross-section.
  const layer = Math.min(cells, Math.ceil((2 * d * cells) / shortest) + sources + 64);
  // A distance field in WebAssembly (up to 3 axes) also holds two chunk buffers (1,024 frontier
  // cells and up to 26 neighbours each), the class rows and whole 64 KiB pages.
  if (type === 'distance_field') return cells + 2 * layer * 4 * GROWTH + DISTANCE_WASM_SLACK;
  // components by flood fill (full connectivity): the open byte and one queue, a layer at most.
  if (type === 'components') return cells + layer * 4 * GROWTH;
  // percolation: hash, order, sizes and parent (4 bytes each) and a flag byte per cell, the radix counts.
  if (type === 'percolation') return 17 * cells + 65536 * 4 + sources * 64;
  // shortest_path's pairs (`sources` of them): an open byte, a 2-byte stamp and a 4-byte distance per
  // cell, and the paths, at most MAX_RETURNED_PATH_CELLS cells together (walked back into a list
  // of cells that grows by doubling, counted by pathBytes as the halves of a search's walk-back).
  if (type === 'shortest_path') return 7 * cells + 2 * layer * 4 * GROWTH + pathBytes(shape) + sources * 256;
  const path = pathBytes(shape);
  if (d <= DIAL_WASM_MAX_AXES && 4 * cells + DIAL_WASM_FIXED_BYTES <= WASM_MAX_BYTES) {
    // Dial's search in WebAssembly (dial-wasm.ts): a cost, a class and a move byte per cell, its
    // first chunks (a neighbourhood's and a ring's worth), then chunks for stale entries beside the
    // live ones; the memory grows by half of its chunk area at a time.
    return 3 * cells + DIAL_WASM_FIXED_BYTES + 4 * layer * 4 * GROWTH * 1.5 + WASM_PAGE_BYTES + path;
  }
  // Dial's search in JavaScript: a cost byte and a float64 parent per cell; buckets of up to 256
  // lists of at least 256 cells, and stale entries beside the live ones.
  const buckets = 256 * 1024 + 4 * layer * 4 * GROWTH;
  return cells + 8 * cells + buckets + path;
}

/** Slabs the pool cuts a run into with `threads` threads (an upper bound: small runs use one). */
export function slabsFor(shape: readonly number[], threads: number): number {
  return Math.max(1, Math.min(threads, Math.floor((shape[0] ?? 1) / MIN_ROWS_PER_SLAB)));
}

/**
 * Bytes a job reserves on a worker whose kernel pool has `threads` threads.
 *
 * @param threads - the pool's threads (the most slabs a run is cut into)
 */
export function jobMemoryBytes(job: JobMemoryInput, threads: number): number {
  const { shape } = job;
  const d = shape.length;
  const cells = shape.reduce((product, side) => product * side, 1);
  const rowCells = cells / (shape[0] ?? 1);
  const slabs = slabsFor(shape, threads);
  const longest = Math.max(...shape);
  const frontier = Math.min(cells, Math.ceil((2 * d * cells) / longest) + 64);
  // Bit arrays round each slab up to whole 32-bit words.
  const bits = (perCell: number): number => Math.ceil((cells * perCell) / 8) + 4 * slabs;
  const control = 32 + (16 + 8 * slabs) * 8;
  const rowTable = rowCells * 4;
  let kernel: number;
  switch (job.type) {
    case 'shortest_path': {
      if (job.pairs || job.connectivity === 'full' || job.mixedBoundary === true) {
        kernel = oneThreadKernelBytes('shortest_path', shape, job.pairs || 1);
        break;
      }
      const outboxes = slabs > 1 ? slabs * 2 * rowCells * 4 : 0;
      // Three frontier queues (two sides and the next layer) of 4-byte cells per slab.
      const queues = 3 * frontier * 4 * GROWTH + slabs * 3 * 256;
      // The lower-bound dive: a hash set and two lists over ~16 cells per step of the bound.
      const dive = 64 * (16 * (shape.reduce((sum, side) => sum + side, 0) + 1) + 1024);
      const path = pathBytes(shape);
      // One thread searching in WebAssembly holds its 3 bits per cell in its own memory, with
      // two chunk buffers (4,096 frontier cells and their neighbours) and whole 64 KiB pages.
      const wasmSlack = 4096 * 4 * (1 + 2 * d) + 2 * 65536;
      // 3-D lattices from 2^22 cells are searched in bricks (brick-padding.ts): 3 bits per padding cell too.
      const inBricks = d === 3 && cells >= BRICK_MIN_CELLS && brickCells(shape) <= MAX_BRICK_PADDING * cells;
      const padded = inBricks ? brickCells(shape) : cells;
      // Two threads in bricks (two-sided-bricks.ts): 4 bits of every padded cell in one shared
      // memory, and each thread's chunk lists (4,096 cells and 2·6 lists of their neighbours).
      const twoSided = inBricks && threads >= 2 ? Math.ceil(padded / 8) + 2 * 4 * 4096 * 13 + WASM_PAGE_BYTES : 0;
      kernel = bits(3) + Math.ceil((3 * (padded - cells)) / 8) + twoSided + outboxes + queues + slabs * rowTable + dive + path + wasmSlack;
      break;
    }
    case 'components': {
      const full = job.connectivity === 'full';
      if (job.mixedBoundary === true || (full && !labellingWasmFits(shape, true))) {
        kernel = oneThreadKernelBytes('components', shape, 0);
        break;
      }
      // Per slab: face labels (4), sizes (8) and flags (1) for two rows; the merge's tables (13
      // in JavaScript; 17 in WebAssembly, whose memory holds a copy of the labels, in whole pages).
      const faces = slabs * 2 * rowCells * (13 + 17) + 65536 + slabs * SLAB_COUNTER_SLOTS * 8;
      const queues = frontier * 4 * GROWTH + slabs * 256;
      // Each slab thread labels in its own WebAssembly memory when the layout fits (2 or more
      // axes); otherwise its JavaScript arrays are sized by a row, as the faces' tables are.
      const wasm = labellingWasmFits(shape, full) ? slabs * runLabellingLayout(shape, full).memoryBytes : 0;
      // The label artefact is streamed after the count, in slabs of its own (label-slabs.ts).
      kernel = bits(1) + faces + queues + slabs * rowTable + wasm + componentLabelBytes(shape, threads);
      break;
    }
    case 'diffusion': {
      // On 2 or more axes each slab steps in its own WebAssembly memory (its conductance codes
      // and its float32 field with two row buffers, in 64 KiB pages) when that fits in 2 GiB, sharing only face rows
      // (two rounds of its two edge rows); otherwise (and on one axis) the JavaScript stencil
      // shares two float32 fields and keeps a conductance byte and an open-mask byte per cell
      // (the mask with a row of halo each side) and a float64 line. Plus per-slab counters.
      const slabRows = Math.ceil((shape[0] ?? 1) / slabs);
      const wasmBytes = wasmStencilBytes(slabRows, rowCells);
      const inWasm = d > 1 && wasmBytes <= WASM_MAX_BYTES;
      const scratch = 8 * slabs * (d > 1 ? (shape[d - 1] ?? 1) : 1);
      const stencil = inWasm ? slabs * (wasmBytes + 16 * rowCells) : 8 * cells + 2 * cells + slabs * 2 * rowCells + scratch;
      // The final field's copy, kept only for its `field` artefact (asked for, on plans that store artefacts).
      const kept = job.keepsField === true ? 4 * cells : 0;
      kernel = stencil + kept + slabs * SLAB_COUNTER_SLOTS * 8 + (job.sources ?? 0) * 64;
      break;
    }
    case 'distance_field':
    case 'min_cost_path':
      kernel = oneThreadKernelBytes(job.weighted === true ? 'min_cost_path' : job.type, shape, job.sources ?? 0);
      break;
    case 'percolation':
      // The points of the result: about 128 bytes of JSON and objects each.
      kernel = oneThreadKernelBytes('percolation', shape, 2 * MAX_PERCOLATION_POINTS);
      break;
  }
  // The spec's explicit list as parsed JSON, and the sorted index list it resolves into.
  const explicit = job.explicitBlocked * (coordinateBytes(d) + 8);
  // An uploaded map's bits, read whole into shared memory the slab threads read in place.
  const map = job.map ? Math.ceil(cells / 8) : 0;
  return Math.ceil(JOB_BASE_BYTES + control + kernel + explicit + map);
}
