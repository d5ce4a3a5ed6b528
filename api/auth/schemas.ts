/**
 * Schemas of the identity routes: the wire schemas (shared with the SDK) and the API's documented
 * problem responses.
 */
import { PROBLEM_SCHEMA } from '../openapi-registry.ts';
import type { ResponseSpec } from '../routing.ts';

export {
  text,
  EMAIL,
  PASSWORD,
  PLAN_CODE,
  SCOPE,
  TIMESTAMP,
  TOKEN_PAIR,
  TENANT,
  USER,
  API_KEY,
  PLAN,
} from '../../shared/wire/identity.ts';

/** A documented problem response. */
export function problem(description: string): ResponseSpec {
  return { description, schema: PROBLEM_SCHEMA, contentType: 'application/problem+json' };
}
