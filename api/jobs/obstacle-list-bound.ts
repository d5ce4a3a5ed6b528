/**
 * A raw body's explicit obstacle list, bounded by the plan before the body is parsed: a list
 * longer than the plan's cells per lattice can never be valid, and parsing and walking one (10^5
 * coordinates, a megabyte) would hold the event loop for every tenant. Its length comes from one
 * scan of the text (api/middleware/json-path-facts.ts).
 */
import { AppError } from '../../shared/errors.ts';
import type { Plan } from '../../shared/plans.ts';
import type { PlanCache } from '../auth/plan-cache.ts';
import type { RawBodyCheck } from '../routing.ts';

/**
 * A raw-body check refusing (402) an obstacle list longer than the plan's `max_cells`, for a
 * lattice spec at `specPath` (`[]` for a lattice body, `['lattice']` for a job).
 */
export function boundObstacleList(plans: PlanCache, specPath: readonly string[]): RawBodyCheck {
  const path = [...specPath, 'obstacles', 'blocked'];
  return {
    paths: [path],
    async check(facts, principal) {
      const blocked = facts.get(path);
      if (blocked?.kind !== 'array') return;
      const refusal = obstacleListRefusal(await plans.get(principal.planCode), blocked.length);
      if (refusal) throw refusal;
    },
  };
}

/** The refusal (402) of an explicit obstacle list of `length` cells on `plan`, or undefined when it may fit. */
export function obstacleListRefusal(plan: Plan, length: number): AppError | undefined {
  if (plan.max_cells < 0 || length <= plan.max_cells) return undefined;
  return new AppError('plan_limit_exceeded', `The ${plan.name} plan allows at most ${plan.max_cells} cells per lattice, so no more blocked cells`, {
    extra: { limit: 'max_cells', limit_value: plan.max_cells, value: length, plan: plan.code },
  });
}
