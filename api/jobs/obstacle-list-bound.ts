/**
 * A raw body's explicit obstacle list, bounded by the plan before any schema walks it: a list
 * longer than the plan's cells per lattice can never be valid, and walking one (10^5 coordinates
 * cost a schema walk hundreds of milliseconds) would hold the event loop for every tenant.
 */
import type { Principal } from '../../shared/auth/principal.ts';
import { AppError } from '../../shared/errors.ts';
import type { PlanCache } from '../auth/plan-cache.ts';

/** The `blocked` list of a lattice spec at `path` in a raw body, if there is one. */
function blockedList(raw: unknown, path: readonly string[]): unknown[] | undefined {
  let at: unknown = raw;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return Array.isArray(at) ? at : undefined;
}

/**
 * A raw-body check refusing (402) an obstacle list longer than the plan's `max_cells`, for a
 * lattice spec at `specPath` (`[]` for a lattice body, `['lattice']` for a job).
 */
export function boundObstacleList(plans: PlanCache, specPath: readonly string[]) {
  return async (raw: unknown, principal: Principal): Promise<void> => {
    const blocked = blockedList(raw, [...specPath, 'obstacles', 'blocked']);
    if (!blocked) return;
    const plan = await plans.get(principal.planCode);
    if (plan.max_cells < 0 || blocked.length <= plan.max_cells) return;
    throw new AppError('plan_limit_exceeded', `The ${plan.name} plan allows at most ${plan.max_cells} cells per lattice, so no more blocked cells`, {
      extra: { limit: 'max_cells', limit_value: plan.max_cells, value: blocked.length, plan: plan.code },
    });
  };
}
