/**
 * Compute units: what a job costs against its plan's compute limits (`max_compute_units_per_job`,
 * `compute_units_per_month`). A unit is one cell visited once by a kernel, counted for the worst
 * case, from the job's lattice size and parameters alone (known at submit):
 *
 * - `shortest_path`: cells — a search visits each open cell at most once;
 * - `components`: cells — one pass labels every cell;
 * - `diffusion`: cells × max(1, steps) + sources × steps + initial — every step updates every
 *   cell and adds every constant source; the initial heat points are placed once. (At least one
 *   pass over the cells: the field is built even for 0 steps.)
 *
 * A job's units are charged when it is accepted (a reservation of its worst case, never refunded
 * or corrected later), so the monthly limit is exact and a tenant cannot start more than it
 * has left.
 */

/** The compute units of a job: `cells` is its lattice's cell count, `params` its parsed parameters. */
export function computeUnits(type: string, cells: number, params: Readonly<Record<string, unknown>>): number {
  if (type !== 'diffusion') return cells;
  const steps = Math.max(0, Number(params['steps'] ?? 0));
  const sources = Array.isArray(params['sources']) ? params['sources'].length : 0;
  const initial = Array.isArray(params['initial']) ? params['initial'].length : 0;
  return cells * Math.max(1, steps) + sources * steps + initial;
}
