/**
 * How many cells the shortest-path search's brick layout of a 3-D lattice holds
 * (worker/kernels/brick-layout.ts, in one thread and in two): each side padded with a blocked cell at both ends and rounded
 * up to whole 8-cell bricks. Here so the job's memory reservation counts the padding too.
 */

/**
 * 3-D lattices from this many cells are searched in bricks, in one thread and in two
 * (docs/performance.md › "shortest_path in two threads, in bricks": from 159³, 4·10^6 cells, bricks
 * cost less CPU than rows in both).
 */
export const BRICK_MIN_CELLS = 2 ** 22;

/** The search uses bricks only when they add at most this share of cells (a thin side pads a lot). */
export const MAX_BRICK_PADDING = 1.25;

/** Bricks along one side. */
export function bricksAlong(side: number): number {
  return Math.ceil((side + 2) / 8);
}

/** Cells of the brick layout of a 3-D shape. */
export function brickCells(shape: readonly number[]): number {
  return shape.reduce((product, side) => product * 8 * bricksAlong(side), 1);
}
