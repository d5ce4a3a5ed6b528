/**
 * A serpentine obstacle map: every odd index of axis 0 is a wall plane with one gap cell at
 * alternating ends, and inside each even plane the same again along the next axis, down to the
 * last two axes (a 2-D serpentine). The only path from the first cell to the last goes back and
 * forth through every open row: the longest shortest paths a lattice of its size can have. Every
 * side but the last must be 1 mod 4, so that each even plane's walk ends at its far corner.
 */

/** The packed map bits (1 = blocked, least significant bit first) of the serpentine on `shape`. */
export function serpentineMap(shape: readonly number[]): Uint8Array {
  if (shape.slice(0, -1).some((side) => side % 4 !== 1)) throw new RangeError('every side but the last must be 1 mod 4');
  const cells = shape.reduce((product, side) => product * side, 1);
  const bits = new Uint8Array(new SharedArrayBuffer(Math.ceil(cells / 8)));
  const d = shape.length;
  const coords = new Array<number>(d).fill(0);
  for (let cell = 0; cell < cells; cell++) {
    let rest = cell;
    for (let a = d - 1; a >= 0; a--) {
      coords[a] = rest % shape[a]!;
      rest = Math.floor(rest / shape[a]!);
    }
    if (blocked(shape, coords)) bits[cell >>> 3]! |= 1 << (cell & 7);
  }
  return bits;
}

/**
 * Whether a cell is a wall: the first axis (from 0) at an odd index is a wall plane unless the
 * remaining coordinates are its gap (the last corner of the plane before it when that plane was
 * walked forwards, its first corner otherwise); a cell of an even plane is decided one axis further in.
 */
function blocked(shape: readonly number[], coords: readonly number[]): boolean {
  const d = shape.length;
  for (let a = 0; a < d - 1; a++) {
    const x = coords[a]!;
    if (x % 2 === 0) continue;
    // The plane before this wall, walked forwards when its index / 2 is even: the gap is at its far corner.
    const forwards = ((x - 1) / 2) % 2 === 0;
    for (let b = a + 1; b < d; b++) if (coords[b] !== (forwards ? shape[b]! - 1 : 0)) return true;
    return false;
  }
  return false;
}
