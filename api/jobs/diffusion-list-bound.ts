/**
 * A raw diffusion body's heat-point lists, bounded by the plan before any schema walks them:
 * every step adds every constant source, so `sources × steps + initial` compute units are a floor
 * on the job's cost whatever its lattice (shared/compute-units.ts). A job whose lists alone cost
 * more than the plan's `max_compute_units_per_job` can never be accepted, and walking 10^4 heat
 * points through the schemas takes hundreds of milliseconds of the event loop every tenant shares.
 * Lists or steps the schema would refuse are left to it, so that it says what is wrong.
 */
import { AppError } from '../../shared/errors.ts';
import { MAX_DIFFUSION_SOURCES, MAX_DIFFUSION_STEPS } from '../../shared/lattice/limits.ts';
import type { PlanCache } from '../auth/plan-cache.ts';
import type { Principal } from '../../shared/auth/principal.ts';
import { planAllowing } from '../../shared/plans.ts';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The length of a heat-point list as the schema would accept it: 0 when absent, undefined when the schema would refuse it. */
function listLength(value: unknown): number | undefined {
  if (value === undefined) return 0;
  return Array.isArray(value) && value.length <= MAX_DIFFUSION_SOURCES ? value.length : undefined;
}

/** The compute units a raw diffusion body's lists cost at least; undefined when it is no diffusion or the schema would refuse its lists or steps. */
export function diffusionListUnits(raw: unknown): number | undefined {
  if (!isRecord(raw) || raw['type'] !== 'diffusion' || !isRecord(raw['params'])) return undefined;
  const { steps, sources, initial } = raw['params'];
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 0 || steps > MAX_DIFFUSION_STEPS) return undefined;
  const sourceCount = listLength(sources);
  const initialCount = listLength(initial);
  if (sourceCount === undefined || initialCount === undefined) return undefined;
  return sourceCount * steps + initialCount;
}

/** A raw-body check of `POST /api/jobs` refusing (402) a diffusion whose heat-point lists alone cost more than the plan allows per job. */
export function boundDiffusionLists(plans: PlanCache) {
  return async (raw: unknown, principal: Principal): Promise<void> => {
    const units = diffusionListUnits(raw);
    if (units === undefined) return;
    const plan = await plans.get(principal.planCode);
    const limit = plan.max_compute_units_per_job;
    if (limit < 0 || units <= limit) return;
    const upgrade = planAllowing(await plans.all(), plan, 'max_compute_units_per_job', units);
    throw new AppError(
      'plan_limit_exceeded',
      `This job costs at least ${units} compute units (its sources × steps + initial); the ${plan.name} plan allows ${limit} per job${upgrade ? ` (the ${upgrade} plan allows that many)` : ''}`,
      { extra: { limit: 'max_compute_units_per_job', limit_value: limit, value: units, plan: plan.code, ...(upgrade ? { upgrade_plan: upgrade } : {}) } },
    );
  };
}
