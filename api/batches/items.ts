/**
 * The jobs of a batch, one by one: the batch's lattice and defaults merged into each, the result
 * validated as `POST /api/jobs` validates a body. Every refusal is kept with its job's index, so
 * one answer names every job at fault (all or nothing: a batch with any is not written).
 */
import { AppError, isAppError } from '../../shared/errors.ts';
import { SubmitJobBody, type SubmitJobInput } from '../../shared/wire/jobs.ts';
import type { SubmitBatchInput } from '../../shared/wire/batches.ts';
import { validationError } from '../routing.ts';

/** A refused job: its index in `jobs` and the problem it would have had alone. */
export interface ItemProblem {
  index: number;
  code: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

/** A job of the batch as a submission; `sharedLattice` when it runs on the batch's inline lattice. */
export interface ParsedItem {
  input: SubmitJobInput;
  sharedLattice: boolean;
}

/** Most problems one refusal lists (the count says how many there were). */
export const MAX_LISTED_PROBLEMS = 100;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The problem of job `index` from anything its checks threw (a non-AppError is a bug: rethrown). */
export function itemProblem(index: number, err: unknown): ItemProblem {
  if (!isAppError(err)) throw err;
  return { ...err.extra, index, code: err.code, status: err.status, detail: err.message };
}

/** The batch's refusal: every job at fault, by index, nothing written. */
export function batchInvalid(problems: readonly ItemProblem[], total: number): AppError {
  const sorted = [...problems].sort((a, b) => a.index - b.index);
  const first = sorted[0];
  return new AppError('batch_invalid', `${sorted.length} of ${total} jobs were refused${first ? `; jobs[${first.index}]: ${first.detail}` : ''}`, {
    extra: { refused: sorted.length, errors: sorted.slice(0, MAX_LISTED_PROBLEMS) },
  });
}

/**
 * Each job of the batch as a job submission, its lattice and defaults merged in, parsed by the
 * job schema; the jobs that fail it become problems named `jobs.<index>.<field>`.
 */
export function parseBatchItems(body: SubmitBatchInput): { inputs: Array<ParsedItem | undefined>; problems: ItemProblem[] } {
  const problems: ItemProblem[] = [];
  const inputs = body.jobs.map((item, index) => {
    const own = item.lattice_id !== undefined || item.lattice !== undefined;
    const merged = {
      ...item,
      type: item.type ?? body.defaults?.type,
      params: { ...body.defaults?.params, ...item.params },
      ...(item.artefacts === undefined && body.defaults?.artefacts !== undefined ? { artefacts: body.defaults.artefacts } : {}),
      // The batch's labels, then the job's own (checked together: at most 16).
      // (A job's labels that are not an object are passed on as they are, for the schema to refuse.)
      ...(body.labels || item.labels !== undefined ? { labels: isPlainObject(item.labels) || item.labels === undefined ? { ...body.labels, ...item.labels } : item.labels } : {}),
      ...(own ? {} : body.lattice_id !== undefined ? { lattice_id: body.lattice_id } : { lattice: body.lattice }),
    };
    const parsed = SubmitJobBody.safeParse(merged);
    if (parsed.success) return { input: parsed.data, sharedLattice: !own && body.lattice !== undefined };
    problems.push(itemProblem(index, validationError(parsed.error, `jobs.${index}`)));
    return undefined;
  });
  return { inputs, problems };
}
