/**
 * `defineRoute` declares a route once: it checks authentication, role and scopes, then reads the
 * body (never before: an anonymous body is not worth parsing), validates params, query and body
 * with zod, and records the operation in the OpenAPI registry. Handlers receive typed, validated
 * input and, on a route with `auth`, the authenticated principal.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type Router from '@koa/router';
import type { z, ZodType } from 'zod';
import type { Principal, Role, Scope } from '../shared/auth/principal.ts';
import { AppError } from '../shared/errors.ts';
import { authenticate } from './auth/authenticate.ts';
import { type JsonFacts, jsonPathFacts } from './middleware/json-path-facts.ts';
import { PROBLEM_SCHEMA } from './openapi-registry.ts';
import { operationIdOf } from './openapi/operation-ids.ts';
import { headerRef, type ResponseHeader } from './openapi/response-headers.ts';
import type { ApiDeps, ApiRouterContext, ApiState } from './state.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * A cheap check of a body against the caller's plan, from what its raw text holds at `paths`
 * (json-path-facts.ts), before any of it is parsed: it refuses by throwing.
 */
export interface RawBodyCheck {
  paths: ReadonlyArray<readonly string[]>;
  check(facts: JsonFacts, principal: Principal): Promise<void>;
}

/** Who may call a route: `public`, or an authenticated principal with these roles and scopes. */
export type AuthRequirement = 'public' | { roles?: readonly Role[]; scopes?: readonly Scope[] };

export interface ResponseSpec {
  description: string;
  schema?: ZodType;
  /** One media type, or each the answer may come as (the schema fits them all). @defaultValue 'application/json' */
  contentType?: string | readonly string[];
  /** Headers this answer carries beyond the ones every answer declares (see `responseHeaders`). */
  headers?: Record<string, ResponseHeader>;
}



/** What a handler gets as its principal: none on a public route, the caller's otherwise. */
export type PrincipalOf<A extends AuthRequirement> = A extends 'public' ? undefined : Principal;

export interface RouteSpec<P extends ZodType, Q extends ZodType, B extends ZodType, A extends AuthRequirement> {
  method: HttpMethod;
  /** Koa-style path, e.g. `/api/jobs/:id`. */
  path: string;
  summary: string;
  tags: string[];
  auth: A;
  params?: P;
  query?: Q;
  body?: B;
  /** A public route with its own per-address rate limit (sign-in, sign-up): its answers carry the RateLimit headers. */
  limitedByAddress?: boolean;
  /**
   * A body that is not JSON (an upload), documented here and read by the handler itself from
   * `ctx.req` as a stream; the route must also be listed in RAW_BODY_ROUTES.
   */
  rawBody?: { contentTypes: readonly string[]; description: string };
  /** Request headers documented (e.g. Idempotency-Key); not validated here. */
  headers?: z.ZodObject;
  responses: Record<number, ResponseSpec>;
  /** Cheap checks of the raw body against the caller's plan, before it is parsed (authenticated routes only). */
  checkRawBody?: readonly RawBodyCheck[];
  handler: (
    ctx: ApiRouterContext,
    input: { params: z.infer<P>; query: z.infer<Q>; body: z.infer<B>; principal: PrincipalOf<A> },
  ) => unknown;
}

/** Turns zod issues into the problem's `errors` list. */
export function validationError(error: z.ZodError, where: string): AppError {
  const errors = error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = errors[0];
  return new AppError('validation_failed', first ? `${first.path}: ${first.message}` : 'The request is not valid', {
    extra: { errors },
  });
}

function parse<T extends ZodType>(schema: T | undefined, value: unknown, where: string): z.infer<T> {
  if (!schema) return undefined as z.infer<T>;
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

/** Checks the principal's role and scopes against a route's requirement; returns the principal. */
export async function authorize<A extends AuthRequirement>(ctx: ApiRouterContext, deps: ApiDeps, auth: A): Promise<PrincipalOf<A>>;
export async function authorize(ctx: ApiRouterContext, deps: ApiDeps, auth: AuthRequirement): Promise<Principal | undefined> {
  if (auth === 'public') return undefined;
  const principal = await authenticate(ctx, deps.verifiers);
  for (const guard of deps.guards ?? []) await guard(ctx, principal);
  if (auth.roles && !auth.roles.includes(principal.role)) {
    throw new AppError('forbidden', `This needs one of the roles: ${auth.roles.join(', ')}`);
  }
  const missing = (auth.scopes ?? []).filter((s) => !principal.scopes.has(s));
  if (missing.length) {
    throw new AppError('insufficient_scope', `This needs the scope(s): ${missing.join(', ')}`, {
      extra: { required_scopes: missing },
    });
  }
  return principal;
}

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: PROBLEM_SCHEMA } },
});


/** Which rate limit counts a route's requests: the tenant's (authenticated routes), the address's (sign-in, sign-up), or none. */
type LimitedBy = 'tenant' | 'address' | undefined;

/**
 * The headers a response carries: its request id always; rate-limit state where a limit counted
 * the request; `Retry-After` on a 429 or 503; `Location` where a POST to a collection made something.
 */
function responseHeaders(status: number, limitedBy: LimitedBy, creates: boolean): Record<string, unknown> {
  // A 429 may come from the cap on failing callers, before any limit; a refused credential never reaches the tenant's.
  const counted = limitedBy !== undefined && status !== 429 && !(limitedBy === 'tenant' && status === 401);
  return {
    'X-Request-Id': headerRef('X-Request-Id'),
    ...(counted
      ? {
          'RateLimit-Limit': headerRef('RateLimit-Limit'),
          'RateLimit-Remaining': headerRef('RateLimit-Remaining'),
          'RateLimit-Reset': headerRef('RateLimit-Reset'),
          'RateLimit-Policy': headerRef('RateLimit-Policy'),
        }
      : {}),
    ...(status === 429 || status === 503 ? { 'Retry-After': headerRef('Retry-After') } : {}),
    ...(creates && (status === 201 || status === 202) ? { Location: headerRef('Location') } : {}),
  };
}

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function defineRoute<P extends ZodType, Q extends ZodType, B extends ZodType, A extends AuthRequirement>(
  router: Router<ApiState>,
  registry: OpenAPIRegistry,
  deps: ApiDeps,
  spec: RouteSpec<P, Q, B, A>,
): void {
  const responses: Record<string, { description: string; content?: unknown; headers?: Record<string, unknown> }> = {};
  const ownHeaders: Record<string, Record<string, ResponseHeader> | undefined> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    const content = response.schema
      ? Object.fromEntries([response.contentType ?? 'application/json'].flat().map((type) => [type, { schema: response.schema }]))
      : Number(status) >= 400
        ? problemResponse(response.description).content
        : undefined;
    responses[status] = { description: response.description, ...(content ? { content } : {}) };
    ownHeaders[status] = response.headers;
  }
  responses['400'] ??= problemResponse('The request is not valid');
  if (spec.body || spec.rawBody) {
    responses['413'] ??= problemResponse('The body is larger than the API accepts');
    responses['415'] ??= problemResponse(spec.rawBody ? `The body is none of ${spec.rawBody.contentTypes.join(', ')}` : 'The body is not application/json');
  }
  if (spec.auth !== 'public') {
    responses['401'] ??= problemResponse('Missing or invalid credentials');
    responses['403'] ??= problemResponse('The credentials lack a required role or scope');
  }
  // Any route: an address that keeps failing authentication is refused for a second (the unauthenticated cap).
  responses['429'] ??= problemResponse(
    spec.auth === 'public' ? 'Too many failed requests without valid credentials from this address' : 'Rate limit or quota reached',
  );
  if (spec.params) responses['404'] ??= problemResponse('Not found (or owned by another tenant)');
  responses['500'] ??= problemResponse('Internal error');
  // Any route: a server draining for shutdown, or PostgreSQL refusing connections under overload.
  responses['503'] ??= problemResponse('Draining for shutdown or overloaded; retry after Retry-After');
  const limitedBy: LimitedBy = spec.auth !== 'public' ? 'tenant' : spec.limitedByAddress ? 'address' : undefined;
  const creates = spec.method === 'post' && !spec.path.includes(':');
  for (const [status, response] of Object.entries(responses)) {
    response.headers = { ...responseHeaders(Number(status), limitedBy, creates), ...ownHeaders[status] };
  }

  registry.registerPath({
    method: spec.method,
    path: openApiPath(spec.path),
    operationId: operationIdOf(spec.method, spec.path),
    summary: spec.summary,
    tags: spec.tags,
    security: spec.auth === 'public' ? [] : [{ bearerAuth: [] }],
    request: {
      ...(spec.params ? { params: spec.params as unknown as z.ZodObject } : {}),
      ...(spec.query ? { query: spec.query as unknown as z.ZodObject } : {}),
      ...(spec.headers ? { headers: spec.headers } : {}),
      ...(spec.body ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } } : {}),
      ...(spec.rawBody
        ? {
            body: {
              required: true,
              description: spec.rawBody.description,
              content: Object.fromEntries(spec.rawBody.contentTypes.map((type) => [type, { schema: { type: 'string', format: 'binary' } }])),
            },
          }
        : {}),
    },
    responses: responses as Parameters<OpenAPIRegistry['registerPath']>[0]['responses'],
  });

  const { readBody } = deps;
  const checks = spec.checkRawBody ?? [];
  if (checks.length > 0 && spec.auth === 'public') throw new Error(`${spec.method} ${spec.path}: checkRawBody needs an authenticated route`);
  const checkPaths = checks.flatMap((c) => c.paths);
  router[spec.method](spec.path, async (ctx) => {
    const principal = await authorize(ctx, deps, spec.auth);
    const params = parse(spec.params, ctx.params, 'params');
    const query = parse(spec.query, ctx.query, 'query');
    // The body is read only now: after authentication, its rate limits and the cheap checks,
    // and parsed only once the checks of its raw text let it through.
    let body = undefined as z.infer<B>;
    if (spec.body) {
      const beforeParse =
        checks.length > 0 && principal
          ? async (text: string) => {
              const facts = jsonPathFacts(text, checkPaths);
              for (const { check } of checks) await check(facts, principal);
            }
          : undefined;
      const raw = (await readBody(ctx, beforeParse)) ?? {};
      body = parse(spec.body, raw, 'body');
    }
    await spec.handler(ctx, { params, query, body, principal });
  });
}
