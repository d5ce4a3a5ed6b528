/**
 * Plain reference implementations of the distance-field and minimum-cost-path kernels, for tests
 * only: neighbours from coordinates (every move in {−1, 0, 1}^d for full connectivity, wrapped
 * modulo the side on a periodic axis, kept in a set), a textbook multi-source BFS with a distance
 * per cell, and Dijkstra with a linear scan for the cheapest pending cell.
 */
import { cellCost, costSeedOffset } from '../../shared/lattice/cost-rule.ts';
import type { Connectivity, Lattice } from '../../shared/lattice/types.ts';
import { refBlocked, refCoords, refIndex, refNeighbours } from './reference.ts';

/** The distinct neighbours of a cell under a connectivity (never itself). */
export function refNeighboursWith(lattice: Lattice, index: number, connectivity: Connectivity): number[] {
  if (connectivity === 'axis') return refNeighbours(lattice, index);
  const coords = refCoords(lattice, index);
  const found = new Set<number>();
  for (let move = 0; move < 3 ** lattice.dimensions; move++) {
    const moved = [...coords];
    let inside = true;
    let rest = move;
    for (let a = 0; a < lattice.dimensions; a++) {
      moved[a] = coords[a]! + (rest % 3) - 1;
      rest = Math.floor(rest / 3);
      if (moved[a]! < 0 || moved[a]! >= lattice.shape[a]!) {
        if (!lattice.periodic[a]) inside = false;
        moved[a] = (moved[a]! + lattice.shape[a]!) % lattice.shape[a]!;
      }
    }
    if (!inside) continue;
    const neighbour = refIndex(lattice, moved);
    if (neighbour !== index) found.add(neighbour);
  }
  return [...found];
}

/**
 * Steps from the nearest source to each cell (−1: blocked or unreached). Blocked sources are
 * skipped unless `forceOpen` (a job's own source cells are always open; a face's are not).
 */
export function refDistances(lattice: Lattice, sources: readonly number[], connectivity: Connectivity, forceOpen: boolean): Int32Array {
  const blocked = refBlocked(lattice, forceOpen ? sources : []);
  const distance = new Int32Array(lattice.cells).fill(-1);
  const queue: number[] = [];
  for (const s of sources) {
    if (blocked[s] === 0 && distance[s] === -1) {
      distance[s] = 0;
      queue.push(s);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const cell = queue[head]!;
    for (const next of refNeighboursWith(lattice, cell, connectivity)) {
      if (blocked[next] === 0 && distance[next] === -1) {
        distance[next] = distance[cell]! + 1;
        queue.push(next);
      }
    }
  }
  return distance;
}

/** The cost of entering each cell under the public rule, 0 when blocked (a path's ends are open). */
export function refCosts(lattice: Lattice, max: number, seed: number, open: readonly number[]): number[] {
  const blocked = refBlocked(lattice, open);
  const offset = costSeedOffset(seed);
  return Array.from({ length: lattice.cells }, (_, i) => (blocked[i] ? 0 : cellCost(i, max, offset)));
}

/** The least sum of entered cells' costs from start to end (Dijkstra), or null when unreachable. */
export function refMinCost(lattice: Lattice, costs: readonly number[], start: number, end: number, connectivity: Connectivity): number | null {
  const best = new Array<number>(lattice.cells).fill(Infinity);
  const done = new Uint8Array(lattice.cells);
  best[start] = 0;
  for (;;) {
    let cell = -1;
    for (let i = 0; i < lattice.cells; i++) if (!done[i] && best[i]! < Infinity && (cell < 0 || best[i]! < best[cell]!)) cell = i;
    if (cell < 0) return null;
    if (cell === end) return best[end]!;
    done[cell] = 1;
    for (const next of refNeighboursWith(lattice, cell, connectivity)) {
      if (costs[next] === 0) continue;
      best[next] = Math.min(best[next]!, best[cell]! + costs[next]!);
    }
  }
}

/**
 * The least cost from the nearest source to each cell (−1: blocked or unreached), by Dijkstra
 * with a linear scan; `costs` as {@link refCosts} gives them (0 = blocked). Sources cost nothing.
 */
export function refCostDistances(lattice: Lattice, costs: readonly number[], sources: readonly number[], connectivity: Connectivity): number[] {
  const best = new Array<number>(lattice.cells).fill(Infinity);
  const done = new Uint8Array(lattice.cells);
  for (const s of sources) if (costs[s] !== 0) best[s] = 0;
  for (;;) {
    let cell = -1;
    for (let i = 0; i < lattice.cells; i++) if (!done[i] && best[i]! < Infinity && (cell < 0 || best[i]! < best[cell]!)) cell = i;
    if (cell < 0) break;
    done[cell] = 1;
    for (const next of refNeighboursWith(lattice, cell, connectivity)) {
      if (costs[next] === 0) continue;
      best[next] = Math.min(best[next]!, best[cell]! + costs[next]!);
    }
  }
  return best.map((d) => (d === Infinity ? -1 : d));
}
