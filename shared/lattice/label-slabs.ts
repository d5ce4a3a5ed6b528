/**
 * How the component-labels artefact is cut into slabs of whole rows (axis 0), and the memory it
 * takes, shared by the worker that streams the labels (worker/component-label-stream.ts) and the
 * reservation that must count them (working-memory.ts).
 */

/** Cells of one label slab (a slab is at least one row, whatever its length): 4 MiB of uint32. */
export const LABEL_SLAB_CELLS = 2 ** 20;

/** Bytes the blob write holds while labels stream out: chunks, a part for S3, a sizes buffer. */
const LABEL_WRITE_BYTES = 24 * 2 ** 20;

/** Rows of axis 0 per label slab. */
export function labelSlabRows(shape: readonly number[], slabCells = LABEL_SLAB_CELLS): number {
  const rowCells = shape.slice(1).reduce((product, side) => product * side, 1);
  return Math.max(1, Math.min(shape[0] ?? 1, Math.floor(slabCells / rowCells)));
}

/**
 * Bytes the streamed labels hold at most on a worker whose pool has `threads` threads: a labels
 * and a sizes buffer (uint32 per cell) per slab in flight (one per thread, and the one being
 * written out), the label map of the slab being written, each slab's first and last rows, and the
 * tables of the clusters touching a slab face (at most one per cell of those rows): global id,
 * parent, size, final label.
 */
export function componentLabelBytes(shape: readonly number[], threads: number, slabCells = LABEL_SLAB_CELLS): number {
  const cells = shape.reduce((product, side) => product * side, 1);
  const rowCells = cells / (shape[0] ?? 1);
  const rows = labelSlabRows(shape, slabCells);
  const cut = rows * rowCells;
  const slabs = Math.ceil((shape[0] ?? 1) / rows);
  const faceCells = Math.min(cells, slabs * 2 * rowCells);
  return (threads + 1) * cut * 8 + (cut + 1) * 4 + faceCells * 4 + faceCells * (4 + 4 + 8 + 4) + LABEL_WRITE_BYTES;
}
