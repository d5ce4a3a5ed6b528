/**
 * Compute units: what a job costs against its plan's `max_compute_units_per_job` and
 * `compute_units_per_month`, the worst case computed from its lattice size and parameters alone
 * (known at submit) and charged when the job is accepted.
 * See docs/plans-and-limits.md › Plans and billing.
 */

/**
 * How many times more neighbours a cell has under `params.connectivity` than along the axes
 * (2·d): 1 for `axis`, ceil((3^d − 1) / (2·d)) for `full`, so a search over diagonals costs its
 * real work. `dimensions` is the lattice's.
 */
export function connectivityFactor(params: Readonly<Record<string, unknown>>, dimensions: number): number {
  if (params['connectivity'] !== 'full') return 1;
  return Math.max(1, Math.ceil((3 ** dimensions - 1) / (2 * dimensions)));
}

/**
 * The compute units of a job: `cells` is its lattice's cell count, `params` its parsed
 * parameters, `dimensions` its lattice's (read only for `full` connectivity).
 */
export function computeUnits(type: string, cells: number, params: Readonly<Record<string, unknown>>, dimensions = 1): number {
  const factor = connectivityFactor(params, dimensions);
  if (type === 'distance_field' || type === 'min_cost_path' || type === 'components') return cells * factor;
  if (type === 'shortest_path' && Array.isArray(params['pairs'])) {
    // One search per distinct start, each of which may reach every cell.
    return cells * factor * new Set(params['pairs'].map((pair) => JSON.stringify((pair as { start?: unknown }).start))).size;
  }
  if (type === 'shortest_path') return cells * factor;
  if (type !== 'diffusion') return cells;
  const steps = Math.max(0, Number(params['steps'] ?? 0));
  const sources = Array.isArray(params['sources']) ? params['sources'].length : 0;
  const initial = Array.isArray(params['initial']) ? params['initial'].length : 0;
  return cells * Math.max(1, steps) + sources * steps + initial;
}
