/**
 * A raw diffusion body's heat-point lists, bounded by the plan before the body is parsed (their
 * lengths and the steps come from one scan of the text, api/middleware/json-path-facts.ts):
 * every step adds every constant source, so `sources × steps + initial` compute units are a floor
 * on the job's cost whatever its lattice (shared/compute-units.ts). A job whose lists alone cost
 * more than the plan's `max_compute_units_per_job` can never be accepted, and parsing and walking
 * 10^4 heat points takes hundreds of milliseconds of the event loop every tenant shares.
 * Lists or steps the schema would refuse are left to it, so that it says what is wrong.
 */
import { AppError } from '../../shared/errors.ts';
import { MAX_DIFFUSION_SOURCES, MAX_DIFFUSION_STEPS } from '../../shared/lattice/limits.ts';
import type { PlanCache } from '../auth/plan-cache.ts';
import { type Plan, planAllowing } from '../../shared/plans.ts';
import type { JsonFact, JsonFacts } from '../middleware/json-path-facts.ts';
import type { RawBodyCheck } from '../routing.ts';

const PATHS = { type: ['type'], params: ['params'], steps: ['params', 'steps'], sources: ['params', 'sources'], initial: ['params', 'initial'] } as const;

/** The length of a heat-point list as the schema would accept it: 0 when absent, undefined when the schema would refuse it. */
function listLength(fact: JsonFact | undefined): number | undefined {
  if (fact === undefined) return 0;
  return fact.kind === 'array' && fact.length <= MAX_DIFFUSION_SOURCES ? fact.length : undefined;
}

/** The compute units a raw diffusion body's lists cost at least; undefined when it is no diffusion or the schema would refuse its lists or steps. */
export function diffusionListUnits(facts: JsonFacts): number | undefined {
  const type = facts.get(PATHS.type);
  if (type?.kind !== 'string' || type.value !== 'diffusion' || facts.get(PATHS.params)?.kind !== 'object') return undefined;
  const steps = facts.get(PATHS.steps);
  if (steps?.kind !== 'number' || !Number.isInteger(steps.value) || steps.value < 0 || steps.value > MAX_DIFFUSION_STEPS) return undefined;
  const sourceCount = listLength(facts.get(PATHS.sources));
  const initialCount = listLength(facts.get(PATHS.initial));
  if (sourceCount === undefined || initialCount === undefined) return undefined;
  return sourceCount * steps.value + initialCount;
}

/** A raw-body check of `POST /api/jobs` refusing (402) a diffusion whose heat-point lists alone cost more than the plan allows per job. */
export function boundDiffusionLists(plans: PlanCache): RawBodyCheck {
  return {
    paths: Object.values(PATHS),
    async check(facts, principal) {
      const units = diffusionListUnits(facts);
      if (units === undefined) return;
      const refusal = diffusionListRefusal(await plans.get(principal.planCode), await plans.all(), units);
      if (refusal) throw refusal;
    },
  };
}

/** The refusal (402) of a diffusion whose heat-point lists alone cost `units` on `plan`, or undefined when they may fit. */
export function diffusionListRefusal(plan: Plan, plans: readonly Plan[], units: number): AppError | undefined {
  const limit = plan.max_compute_units_per_job;
  if (limit < 0 || units <= limit) return undefined;
  const upgrade = planAllowing(plans, plan, 'max_compute_units_per_job', units);
  return new AppError(
    'plan_limit_exceeded',
    `This job costs at least ${units} compute units (its sources × steps + initial); the ${plan.name} plan allows ${limit} per job${upgrade ? ` (the ${upgrade} plan allows that many)` : ''}`,
    { extra: { limit: 'max_compute_units_per_job', limit_value: limit, value: units, plan: plan.code, ...(upgrade ? { upgrade_plan: upgrade } : {}) } },
  );
}
