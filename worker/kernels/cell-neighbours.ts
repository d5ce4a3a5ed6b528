/**
 * The neighbour lists of {@link NeighbourSteps} behind one call for any lattice: below 2^31 cells
 * through {@link InteriorSteps} (one offset list for cells off every face), past it through the
 * general float arithmetic. For the one-thread kernels that serve every connectivity and boundary
 * (flood-components.ts, path-pairs.ts); the axis fast paths inline their own steps.
 */
import type { Connectivity, Lattice } from '../../shared/lattice/types.ts';
import { InteriorSteps, NeighbourSteps } from './neighbour-steps.ts';

export class CellNeighbours {
  /** The most neighbours a cell has: the length of {@link CellNeighbours.around}. */
  readonly max: number;
  /** The neighbours of the cell last passed to {@link CellNeighbours.fill}. */
  readonly around: Float64Array;
  private readonly interior: InteriorSteps | null;
  private readonly general: NeighbourSteps | null;
  private readonly small: Int32Array;

  constructor(lattice: Pick<Lattice, 'shape' | 'strides' | 'periodic' | 'cells'>, connectivity: Connectivity) {
    this.interior = lattice.cells < 2 ** 31 ? new InteriorSteps(lattice, connectivity) : null;
    this.general = this.interior === null ? new NeighbourSteps(lattice, connectivity) : null;
    this.max = (this.interior ?? this.general)!.max;
    this.around = new Float64Array(this.max);
    this.small = new Int32Array(this.interior === null ? 0 : this.max);
  }

  /** Writes the neighbours of `cell` into {@link CellNeighbours.around} and returns how many. */
  fill(cell: number): number {
    if (this.interior === null) return this.general!.fill(cell, this.around);
    const { small, around } = this;
    const count = this.interior.fill(cell, small);
    for (let j = 0; j < count; j++) around[j] = small[j]!;
    return count;
  }
}
