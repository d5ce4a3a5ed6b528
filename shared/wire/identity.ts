/**
 * Wire schemas of the identity routes (tokens, tenants, users, API keys, plans): the API validates
 * and documents with them, and the SDK takes its types from them.
 */
import './openapi-zod.ts';
import { z } from 'zod';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PASSWORD_MIN_SCORE } from '../auth/passwords.ts';
import { ROLES, SCOPES } from '../auth/principal.ts';
import { PLAN_CODES } from '../plans.ts';

// Control characters have no place in names and would corrupt logs and exports.
const CONTROL_CHARS = /\p{Cc}/u;

/** A trimmed, single-line text of 1..max characters. */
export function text(max: number) {
  return z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .refine((v) => !CONTROL_CHARS.test(v), { error: 'must not contain control characters' })
    // The same rule for the document: no control character but in the whitespace trimmed off the ends.
    .openapi({ pattern: '^\\s*[^\\u0000-\\u001F\\u007F-\\u009F]*\\s*$' });
}

export const EMAIL = z.string().trim().max(254, { error: 'must be at most 254 characters' }).pipe(z.email({ error: 'must be an email address' }));
export const PASSWORD = z
  .string()
  .min(PASSWORD_MIN_LENGTH, { error: `must be at least ${PASSWORD_MIN_LENGTH} characters` })
  .max(PASSWORD_MAX_LENGTH, { error: `must be at most ${PASSWORD_MAX_LENGTH} characters` });

/** A new password, its strength rule said (checked by `passwordWeakness`, against `knownWords`). */
export function newPassword(knownWords: string) {
  return PASSWORD.describe(
    `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters and hard to guess: a zxcvbn score of ${PASSWORD_MIN_SCORE} or more, with ${knownWords} counted as known words (400 \`validation_failed\` naming this field otherwise)`,
  );
}
export const PLAN_CODE = z.enum(PLAN_CODES, { error: `must be one of: ${PLAN_CODES.join(', ')}` });
export const SCOPE = z.enum(SCOPES, { error: `must be one of: ${SCOPES.join(', ')}` });
export const TIMESTAMP = z.string().describe('ISO 8601 date-time');

export const TOKEN_PAIR = z
  .object({
    access_token: z.string().describe('RS256 JWT; send as `Authorization: Bearer <token>`'),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().describe('Seconds until the access token expires'),
    refresh_token: z.string().describe('Opaque; spend it at /auth/refresh for a new pair (once)'),
    refresh_expires_in: z.number().int().describe('Seconds until the refresh token expires'),
  })
  .openapi('TokenPair');

export const TENANT = z
  .object({ id: z.uuid(), name: z.string(), plan_code: z.string(), status: z.enum(['active', 'suspended']), created_at: TIMESTAMP })
  .openapi('Tenant');

export const USER = z
  .object({
    id: z.uuid(),
    email: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    role: z.enum(ROLES),
    created_at: TIMESTAMP,
  })
  .openapi('User');

export const API_KEY = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().describe('Shown in clear: the key starts with `ck_<prefix>_`'),
    scopes: z.array(SCOPE),
    user_id: z.uuid().nullable().describe('Who created it'),
    expires_at: TIMESTAMP.nullable(),
    revoked_at: TIMESTAMP.nullable(),
    last_used_at: TIMESTAMP.nullable(),
    created_at: TIMESTAMP,
  })
  .openapi('ApiKey');

export const PLAN = z
  .object({
    code: PLAN_CODE,
    name: z.string(),
    price_cents: z.number().int().describe('Monthly price in US cents'),
    weight: z.number().int().describe('Share of worker time relative to other tenants'),
    max_concurrent_jobs: z.number().int(),
    max_lattices: z.number().int(),
    max_webhooks: z.number().int().describe('Webhook endpoints'),
    max_seats: z.number().int().describe('Members plus pending invitations'),
    max_dimensions: z.number().int(),
    max_side: z.number().int(),
    max_cells: z.number().int(),
    api_calls_per_month: z.number().int(),
    jobs_per_month: z.number().int(),
    requests_per_minute: z.number().int(),
    retention_days: z.number().int(),
    max_job_runtime_ms: z.number().int(),
    max_compute_units_per_job: z.number().int().describe('Most compute units one job may cost (see docs/plans-and-limits.md)'),
    compute_units_per_month: z.number().int().describe("Compute units the tenant's jobs may cost per month"),
    max_storage_bytes: z.number().int().describe('Bytes of uploaded maps and result artefacts the tenant may keep'),
    stores_artefacts: z.boolean().describe('Whether jobs keep full results (paths, labels, fields) as downloadable artefacts'),
    max_picture_pixels: z.number().int().describe("Most pixels of one PNG rendering of a job's results"),
  })
  .openapi('Plan', { description: 'A plan and its limits; -1 means unlimited' });
