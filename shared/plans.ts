/**
 * Plans and their limits, read from the `plans` table. Limits of -1 mean unlimited. Reads are not
 * cached: a plan change applies to the very next request and the next fetch round.
 */
import type { Knex } from 'knex';

export const PLAN_CODES = ['free', 'starter', 'professional', 'enterprise'] as const;
export type PlanCode = (typeof PLAN_CODES)[number];

export interface Plan {
  code: PlanCode;
  name: string;
  price_cents: number;
  weight: number;
  max_concurrent_jobs: number;
  max_lattices: number;
  /** Webhook endpoints a tenant may have. */
  max_webhooks: number;
  /** Members plus pending invitations a tenant may have. */
  max_seats: number;
  max_dimensions: number;
  max_side: number;
  max_cells: number;
  api_calls_per_month: number;
  jobs_per_month: number;
  requests_per_minute: number;
  retention_days: number;
  max_job_runtime_ms: number;
  /** Most compute units one job may cost (shared/compute-units.ts). */
  max_compute_units_per_job: number;
  /** Compute units a tenant's jobs may cost per UTC month. */
  compute_units_per_month: number;
  /** Bytes of blobs (uploaded maps, result artefacts) a tenant may keep. */
  max_storage_bytes: number;
  /** Whether jobs keep their full results as downloadable artefacts (else the JSON summary only). */
  stores_artefacts: boolean;
  /** Most pixels of one PNG rendering of a job (its picture). */
  max_picture_pixels: number;
}

/**
 * True when moving from `from` to `to` needs no approval: a free plan, or one that costs no more
 * than the current one (a downgrade). Anything else is an upgrade to a paid plan.
 */
export function isSelfServeChange(from: Pick<Plan, 'price_cents'>, to: Pick<Plan, 'price_cents'>): boolean {
  return to.price_cents === 0 || to.price_cents <= from.price_cents;
}

/** The plan tenants start on while a sign-up's request for a paid plan waits for approval. */
export const STARTING_PLAN: PlanCode = 'free';

/** True when `value` is within `limit` (-1 = unlimited). */
export function withinLimit(value: number, limit: number): boolean {
  return limit < 0 || value <= limit;
}

/** A plan's numeric limits, where -1 means unlimited. */
export type PlanLimit = 'max_dimensions' | 'max_side' | 'max_cells' | 'max_compute_units_per_job' | 'compute_units_per_month' | 'max_storage_bytes';

/** The cheapest plan above `current` whose `limit` allows `value`, to name in a refusal. */
export function planAllowing(plans: readonly Plan[], current: Plan, limit: PlanLimit, value: number): string | undefined {
  return [...plans]
    .filter((p) => p.price_cents > current.price_cents)
    .sort((a, b) => a.price_cents - b.price_cents)
    .find((p) => withinLimit(value, p[limit]))?.code;
}

export async function listPlans(db: Knex): Promise<Plan[]> {
  return db('plans').orderBy('weight').select<Plan[]>('*');
}

export async function getPlan(db: Knex, code: string): Promise<Plan | undefined> {
  return db('plans').where({ code }).first<Plan | undefined>();
}

/** The plan of a tenant (throws when the tenant does not exist). */
export async function getTenantPlan(db: Knex, tenantId: string): Promise<Plan> {
  const plan = await db('plans')
    .join('tenants', 'tenants.plan_code', 'plans.code')
    .where('tenants.id', tenantId)
    .first<Plan | undefined>('plans.*');
  if (!plan) throw new Error(`No tenant ${tenantId}`);
  return plan;
}
