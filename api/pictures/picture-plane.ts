/**
 * The 2-D plane of a lattice a picture shows: the whole of a 2-D lattice, or the slice
 * `?slice=axis:index[,axis:index…]` of a larger one, which fixes every axis but two. The picture's
 * rows run along the lower kept axis and its columns along the higher, so in row-major order its
 * cells come in increasing index order: one forward pass over an array reads them all.
 */
import { AppError } from '../../shared/errors.ts';

export interface PicturePlane {
  /** The kept axes: rows along `axes[0]`, columns along `axes[1]`. */
  axes: [number, number];
  /** Cells down and across. */
  height: number;
  width: number;
  /** Index of the plane's first cell (row 0, column 0). */
  base: number;
  /** Index steps between rows and between columns. */
  rowStride: number;
  colStride: number;
  /** Each fixed axis and its index. */
  fixed: Array<[axis: number, index: number]>;
}

function sliceInvalid(detail: string, extra: Record<string, unknown> = {}): AppError {
  return new AppError('slice_invalid', detail, { extra });
}

/**
 * Parses `slice` against a lattice's shape.
 *
 * @throws AppError slice_invalid (400) when it names an axis twice or out of range, an index
 *   outside its axis, or leaves other than two axes (a 3-D lattice without a slice among them)
 */
export function picturePlane(shape: readonly number[], slice: string | undefined): PicturePlane {
  const fixed: Array<[number, number]> = [];
  for (const part of slice ? slice.split(',') : []) {
    const match = /^(\d{1,2}):(\d{1,10})$/.exec(part.trim());
    if (!match) throw sliceInvalid(`slice part "${part}" is not axis:index`, { slice });
    const axis = Number(match[1]);
    const index = Number(match[2]);
    if (axis >= shape.length) throw sliceInvalid(`axis ${axis} does not exist: the lattice has ${shape.length} axes`, { slice, shape });
    if (fixed.some(([a]) => a === axis)) throw sliceInvalid(`axis ${axis} is fixed twice`, { slice });
    if (index >= shape[axis]!) throw sliceInvalid(`index ${index} is outside axis ${axis} of side ${shape[axis]}`, { slice, shape });
    fixed.push([axis, index]);
  }
  const kept = shape.map((_, axis) => axis).filter((axis) => !fixed.some(([a]) => a === axis));
  if (kept.length !== 2) {
    const need = shape.length - 2;
    throw sliceInvalid(
      shape.length < 2
        ? `a picture needs 2 axes; the lattice has ${shape.length}`
        : `a picture shows 2 axes: fix ${need} of the lattice's ${shape.length} with ?slice=axis:index${need > 1 ? ',axis:index' : ''} (${fixed.length} fixed)`,
      { shape },
    );
  }
  const strides: number[] = [];
  let stride = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    strides[a] = stride;
    stride *= shape[a]!;
  }
  const [r, c] = kept as [number, number];
  return {
    axes: [r, c],
    height: shape[r]!,
    width: shape[c]!,
    base: fixed.reduce((sum, [axis, index]) => sum + index * strides[axis]!, 0),
    rowStride: strides[r]!,
    colStride: strides[c]!,
    fixed: fixed.sort((a, b) => a[0] - b[0]),
  };
}

/** The index of the plane's cell at (row, column). */
export function planeIndex(plane: PicturePlane, row: number, col: number): number {
  return plane.base + row * plane.rowStride + col * plane.colStride;
}
