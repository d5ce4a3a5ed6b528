/**
 * Compute units: what a job costs against its plan's `max_compute_units_per_job` and
 * `compute_units_per_month`, the worst case computed from its lattice size and parameters alone
 * (known at submit) and charged when the job is accepted.
 * See docs/plans-and-limits.md › Plans and billing.
 */

/** The compute units of a job: `cells` is its lattice's cell count, `params` its parsed parameters. */
export function computeUnits(type: string, cells: number, params: Readonly<Record<string, unknown>>): number {
  if (type !== 'diffusion') return cells;
  const steps = Math.max(0, Number(params['steps'] ?? 0));
  const sources = Array.isArray(params['sources']) ? params['sources'].length : 0;
  const initial = Array.isArray(params['initial']) ? params['initial'].length : 0;
  return cells * Math.max(1, steps) + sources * steps + initial;
}
