/**
 * Checks of a lattice or a job against the engine (a spec the kernels can run) and against the
 * tenant's plan (dimensions, side length, cells), turned into problems a client can act on.
 * Everything here is cheap: it reads the spec, never materialises the lattice.
 */
import { AppError } from '../errors.ts';
import { isLatticeValidationError } from '../lattice/errors.ts';
import { resolveParsedParams } from '../lattice/job.ts';
import { type CheckedLattice, checkSpec, type LatticeSummary } from '../lattice/resolve.ts';
import type { KernelParamsByType, KernelType, LatticeSpec } from '../lattice/types.ts';
import { type Plan, planAllowing, type PlanLimit } from '../plans.ts';

/** A lattice validation error as a 400 problem with the engine's code and the field at fault. */
export function latticeProblem(err: { code: string; field: string; message: string }, prefix: string): AppError {
  const field = [prefix, err.field].filter(Boolean).join('.');
  const code = err.code === 'too_many_cells' || err.code === 'cell_out_of_bounds' || err.code === 'params_invalid' ? err.code : 'lattice_invalid';
  // The errors list names the field in `path`, so its message does not repeat it.
  const message = err.field && err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
  return new AppError(code, err.message, { extra: { field, errors: [{ path: field, message }] } });
}

/** Runs `fn`, turning a lattice validation error into its problem. */
function asProblem<T>(fn: () => T, prefix: string): T {
  try {
    return fn();
  } catch (err) {
    if (isLatticeValidationError(err)) throw latticeProblem(err, prefix);
    throw err;
  }
}

/**
 * Checks a lattice spec already parsed by the lattice schema (a route's validated body, a stored
 * version's head), once: the checks across fields only, without parsing a long obstacle list
 * twice. Returns it in canonical form (an explicit obstacle list sorted, without repeats), what it
 * describes and its geometry, which every later check reads instead of the spec.
 */
export function checkParsedLattice(spec: LatticeSpec, prefix = 'body'): CheckedLattice {
  return asProblem(() => checkSpec(spec), prefix);
}

/**
 * Checks a job's parameters, already parsed by their type's schema (a route's validated body),
 * against its checked lattice (a start outside the shape, an unstable alpha…).
 */
export function checkParsedJob<T extends KernelType>(type: T, lattice: CheckedLattice, params: KernelParamsByType[T]): Record<string, unknown> {
  return asProblem(() => {
    resolveParsedParams(type, lattice.geometry, params);
    return params as unknown as Record<string, unknown>;
  }, 'body');
}

type LatticeLimit = Extract<PlanLimit, 'max_dimensions' | 'max_side' | 'max_cells'>;

function refuse(plan: Plan, plans: readonly Plan[], limit: LatticeLimit, value: number, what: string): never {
  const upgrade = planAllowing(plans, plan, limit, value);
  throw new AppError('plan_limit_exceeded', `The ${plan.name} plan allows ${what}${upgrade ? ` (the ${upgrade} plan allows ${value})` : ''}`, {
    extra: { limit, limit_value: plan[limit], value, plan: plan.code, ...(upgrade ? { upgrade_plan: upgrade } : {}) },
  });
}

/**
 * Refuses a lattice larger than the plan allows (-1 = unlimited), naming in `upgrade_plan` the
 * cheapest of `plans` that would allow it.
 */
export function checkLatticeAgainstPlan(summary: Pick<LatticeSummary, 'dimensions' | 'shape' | 'cells'>, plan: Plan, plans: readonly Plan[] = []): void {
  if (plan.max_dimensions >= 0 && summary.dimensions > plan.max_dimensions) {
    refuse(plan, plans, 'max_dimensions', summary.dimensions, `at most ${plan.max_dimensions} dimensions`);
  }
  const side = Math.max(...summary.shape);
  if (plan.max_side >= 0 && side > plan.max_side) {
    refuse(plan, plans, 'max_side', side, `sides of at most ${plan.max_side} cells`);
  }
  if (plan.max_cells >= 0 && summary.cells > plan.max_cells) {
    refuse(plan, plans, 'max_cells', summary.cells, `at most ${plan.max_cells} cells per lattice`);
  }
}

/** Compute a job costs, for usage: cells × steps for diffusion, cells for one-pass kernels. */
export function computeCells(type: string, cells: number, params: Record<string, unknown>): number {
  if (type === 'diffusion') return cells * Math.max(1, Number(params['steps'] ?? 1));
  return cells;
}
