/**
 * A raw batch body's lists, bounded job by job before the body is parsed: each job's explicit
 * obstacle list by the plan's cells per lattice, and a diffusion's heat-point lists by the plan's
 * compute units per job (api/jobs/obstacle-list-bound.ts and diffusion-list-bound.ts say why).
 * A batch is a thousand such bodies in one text, so parsing it first would hold the event loop a
 * thousand times as long. Every job at fault is named by its index, as in any refused batch
 * (422 `batch_invalid`, nothing written). The lengths come from one scan of the text
 * (api/middleware/json-path-facts.ts); the batch's `defaults` merge in as the parse would merge them.
 */
import { ITEM, type JsonFact, type JsonFacts } from '../middleware/json-path-facts.ts';
import type { PlanCache } from '../auth/plan-cache.ts';
import { diffusionListRefusal, diffusionListUnits } from '../jobs/diffusion-list-bound.ts';
import { obstacleListRefusal } from '../jobs/obstacle-list-bound.ts';
import type { RawBodyCheck } from '../routing.ts';
import { MAX_BATCH_JOBS } from '../../shared/wire/batches.ts';
import { batchInvalid, type ItemProblem, itemProblem } from './items.ts';

const JOB = ['jobs', ITEM];
const PARAM_KEYS = ['steps', 'sources', 'initial'];
const PATHS = [
  ['jobs'],
  [...JOB, 'lattice', 'obstacles', 'blocked'],
  [...JOB, 'type'],
  [...JOB, 'params'],
  ...PARAM_KEYS.map((k) => [...JOB, 'params', k]),
  ['defaults', 'type'],
  ...PARAM_KEYS.map((k) => ['defaults', 'params', k]),
];

/**
 * The facts of job `index` as its merged body would show them (`type` and each `params` field its
 * own, else the batch's default); undefined facts when its `params` is no object (the schema refuses it).
 */
function jobFacts(facts: JsonFacts, index: number): JsonFacts {
  const own = (path: readonly string[]): JsonFact | undefined => facts.get(['jobs', String(index), ...path]);
  return {
    get(path) {
      if (path.length === 1 && path[0] === 'type') return own(path) ?? facts.get(['defaults', 'type']);
      if (path[0] !== 'params') return own(path);
      const params = own(['params']);
      if (params !== undefined && params.kind !== 'object') return undefined;
      if (path.length === 1) return { kind: 'object' };
      return own(path) ?? facts.get(['defaults', ...path]);
    },
  };
}

/** A raw-body check of `POST /api/batches` refusing (422 `batch_invalid`) a batch with a job whose lists alone exceed the plan. */
export function boundBatchItemLists(plans: PlanCache): RawBodyCheck {
  return {
    paths: PATHS,
    async check(facts, principal) {
      const jobs = facts.get(['jobs']);
      // A list the schema refuses is left to it.
      if (jobs?.kind !== 'array' || jobs.length > MAX_BATCH_JOBS) return;
      const plan = await plans.get(principal.planCode);
      const problems: ItemProblem[] = [];
      for (let index = 0; index < jobs.length; index++) {
        const blocked = facts.get(['jobs', String(index), 'lattice', 'obstacles', 'blocked']);
        const obstacles = blocked?.kind === 'array' ? obstacleListRefusal(plan, blocked.length) : undefined;
        const units = diffusionListUnits(jobFacts(facts, index));
        const heat = obstacles || units === undefined ? undefined : diffusionListRefusal(plan, await plans.all(), units);
        const refusal = obstacles ?? heat;
        if (refusal) problems.push(itemProblem(index, refusal));
      }
      if (problems.length > 0) throw batchInvalid(problems, jobs.length);
    },
  };
}
