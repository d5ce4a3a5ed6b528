/**
 * How many cells the one-thread search's brick layout of a 3-D lattice holds
 * (worker/kernels/brick-layout.ts): each side padded with a blocked cell at both ends and rounded
 * up to whole 8-cell bricks. Here so the job's memory reservation counts the padding too.
 */

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
