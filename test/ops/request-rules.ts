/**
 * Request bodies that a cross-field rule decides (exactly one of `lattice_id` and `lattice`,
 * `shape` or `dimensions` and `size`, `start` and `end` or `pairs`, at least one field of a
 * change…), each with the API's verdict (its zod schemas; a lattice spec's own checks too) and
 * the operation it is sent to: openapi-document.test.ts checks the document accepts and refuses
 * each as the API does.
 */
import type { ZodType } from 'zod';
import { LatticeSpecSchema } from '../../shared/lattice/schema.ts';
import { CancelJobsBody, CreateLatticeBody, SubmitJobBody, UpdateLatticeBody } from '../../shared/wire/jobs.ts';
import { SubmitBatchBody } from '../../shared/wire/batches.ts';
import { NOTIFICATION_PREFERENCES_CHANGE } from '../../shared/wire/notifications.ts';
import { REGISTRATION } from '../../shared/wire/registration.ts';
import { UpdateEndpointBody } from '../../shared/wire/webhooks.ts';

export interface RuleCase {
  method: 'post' | 'patch';
  path: string;
  body: unknown;
  /** Whether the API takes the body (before any check that needs stored data). */
  accepted: boolean;
}

/** The verdict of `schema`, and of the lattice spec checks on the spec the body holds, if any. */
function verdict(schema: ZodType, body: object, spec?: unknown): boolean {
  return schema.safeParse(body).success && (spec === undefined || LatticeSpecSchema.safeParse(spec).success);
}

function rule(method: RuleCase['method'], path: string, schema: ZodType, body: object, spec?: unknown): RuleCase {
  return { method, path, body, accepted: verdict(schema, body, spec) };
}

const ID = '00000000-0000-4000-8000-000000000000';
const jobs = (body: { type: string; lattice?: unknown } & Record<string, unknown>): RuleCase => rule('post', '/api/jobs', SubmitJobBody, body, body.lattice);
const lattice = (body: object): RuleCase => rule('post', '/api/lattices', CreateLatticeBody, body, body);
const path = { start: [0, 0], end: [1, 1] };
const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
const signUp = { email: 'a@example.test', password: 'Quartz-Lantern-81-Meadow!', first_name: 'Ada', last_name: 'Owner', plan_code: 'free' };

export const RULE_CASES: RuleCase[] = [
  jobs({ type: 'components', lattice_id: ID }),
  jobs({ type: 'components' }),
  jobs({ type: 'components', lattice_id: ID, lattice: { shape: [2, 2] } }),
  jobs({ type: 'shortest_path', lattice_id: ID, params: path }),
  jobs({ type: 'shortest_path', lattice_id: ID, params: { pairs: [path] } }),
  jobs({ type: 'shortest_path', lattice_id: ID, params: { pairs: [path], start: [0, 0] } }),
  jobs({ type: 'shortest_path', lattice_id: ID, params: { start: [0, 0] } }),
  jobs({ type: 'distance_field', lattice_id: ID, params: { sources: [[0, 0]] } }),
  jobs({ type: 'distance_field', lattice_id: ID, params: { face: { axis: 0, side: 'low' } } }),
  jobs({ type: 'distance_field', lattice_id: ID, params: { sources: [[0, 0]], face: { axis: 0, side: 'low' } } }),
  jobs({ type: 'distance_field', lattice_id: ID, params: {} }),
  jobs({ type: 'components', lattice: { dimensions: 2, size: 3 } }),
  jobs({ type: 'components', lattice: { shape: [3, 3], size: 3 } }),
  jobs({ type: 'components', lattice_id: ID, labels: labels(16) }),
  jobs({ type: 'components', lattice_id: ID, labels: labels(17) }),
  jobs({ type: 'components', lattice_id: ID, labels: { 'Not A Key': 'v' } }),
  lattice({ shape: [4, 4] }),
  lattice({ dimensions: 2, size: 4 }),
  lattice({ shape: [4, 4], dimensions: 2 }),
  lattice({ dimensions: 2 }),
  rule('patch', '/api/lattices/{id}', UpdateLatticeBody, {}),
  rule('patch', '/api/lattices/{id}', UpdateLatticeBody, { name: 'maze' }),
  rule('patch', '/api/lattices/{id}', UpdateLatticeBody, { shape: [4, 4], size: 4 }),
  rule('post', '/api/batches', SubmitBatchBody, { jobs: [{}], lattice: { shape: [2, 2] } }),
  rule('post', '/api/batches', SubmitBatchBody, { jobs: [{}], lattice_id: ID, lattice: { shape: [2, 2] } }),
  rule('post', '/api/jobs/cancel', CancelJobsBody, {}),
  rule('post', '/api/jobs/cancel', CancelJobsBody, { batch_id: ID }),
  rule('post', '/api/jobs/cancel', CancelJobsBody, { label: 'sweep:1', status: 'queued' }),
  rule('patch', '/api/webhooks/{id}', UpdateEndpointBody, {}),
  rule('patch', '/api/webhooks/{id}', UpdateEndpointBody, { enabled: true }),
  rule('patch', '/api/webhooks/{id}', UpdateEndpointBody, { events: ['job.failed', 'job.failed'] }),
  rule('patch', '/api/me/notifications', NOTIFICATION_PREFERENCES_CHANGE, {}),
  rule('patch', '/api/me/notifications', NOTIFICATION_PREFERENCES_CHANGE, { quotas: false }),
  rule('post', '/api/tenants/register', REGISTRATION, { ...signUp, company_name: 'Contract Co' }),
  rule('post', '/api/tenants/register', REGISTRATION, { ...signUp, company_name: 'Contract\u0007Co' }),
  rule('post', '/api/tenants/register', REGISTRATION, { ...signUp, company_name: ' Contract Co\n' }),
];
