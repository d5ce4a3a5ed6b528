/**
 * Downsampling a field to a small grid of block means, so a diffusion result stays a few
 * kilobytes whatever the lattice size. Cell coordinate x on an axis of side n maps to block
 * floor(x · m / n) of m, so blocks differ in size by at most one cell.
 */
import { MAX_FIELD_VALUES } from '../../shared/lattice/limits.ts';

/**
 * The shape of the sampled field: each axis keeps its side until the total passes `maxValues`,
 * then the longest axis is halved (rounding up) until it fits.
 */
export function sampleShape(shape: readonly number[], maxValues: number = MAX_FIELD_VALUES): number[] {
  const out = [...shape];
  const total = (): number => out.reduce((product, side) => product * side, 1);
  while (total() > maxValues) {
    let longest = 0;
    for (let a = 1; a < out.length; a++) if (out[a]! > out[longest]!) longest = a;
    out[longest] = Math.ceil(out[longest]! / 2);
  }
  return out;
}

/** The block of coordinate `x` on an axis of side `side` sampled to `blocks` blocks. */
export function blockOf(x: number, side: number, blocks: number): number {
  return Math.floor((x * blocks) / side);
}

/** How many coordinates of an axis fall in block `j`. */
export function blockLength(j: number, side: number, blocks: number): number {
  return Math.ceil(((j + 1) * side) / blocks) - Math.ceil((j * side) / blocks);
}

/** The number of lattice cells in each sampled block, row-major. */
export function blockCellCounts(shape: readonly number[], sampled: readonly number[]): Float64Array {
  const total = sampled.reduce((product, side) => product * side, 1);
  const counts = new Float64Array(total).fill(1);
  let inner = 1;
  for (let a = sampled.length - 1; a >= 0; a--) {
    const blocks = sampled[a]!;
    for (let i = 0; i < total; i++) {
      const j = Math.floor(i / inner) % blocks;
      counts[i]! *= blockLength(j, shape[a]!, blocks);
    }
    inner *= blocks;
  }
  return counts;
}
