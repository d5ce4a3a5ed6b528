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
import { PROBLEM_SCHEMA } from './openapi-registry.ts';
import { operationIdOf } from './openapi/operation-ids.ts';
import type { ApiDeps, ApiRouterContext, ApiState } from './state.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: `public`, or an authenticated principal with these roles and scopes. */
export type AuthRequirement = 'public' | { roles?: readonly Role[]; scopes?: readonly Scope[] };

export interface ResponseSpec {
  description: string;
  schema?: ZodType;
  /** @defaultValue 'application/json' */
  contentType?: string;
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
  /**
   * A body that is not JSON (an upload), documented here and read by the handler itself from
   * `ctx.req` as a stream; the route must also be listed in RAW_BODY_ROUTES.
   */
  rawBody?: { contentTypes: readonly string[]; description: string };
  /** Request headers documented (e.g. Idempotency-Key); not validated here. */
  headers?: z.ZodObject;
  responses: Record<number, ResponseSpec>;
  /** Cheap checks of the raw body against the caller's plan, before the schema walks it. */
  checkRawBody?: (raw: unknown, principal: PrincipalOf<A>) => Promise<void>;
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

const header = (description: string, type: 'string' | 'integer' = 'string') => ({ description, schema: { type } });

/**
 * The headers a response carries: its request id always; rate-limit state where limits apply;
 * `Location` where a POST to a collection made something.
 */
function responseHeaders(status: number, limited: boolean, creates: boolean): Record<string, unknown> {
  return {
    'X-Request-Id': header('The request id (the one sent, or a new one); logs carry it'),
    ...(limited
      ? {
          'RateLimit-Limit': header("Requests allowed in the tenant's window", 'integer'),
          'RateLimit-Remaining': header('Requests left in the window', 'integer'),
          'RateLimit-Reset': header('Seconds until the window resets', 'integer'),
        }
      : {}),
    ...(status === 429 || status === 503 ? { 'Retry-After': header('Seconds to wait before trying again', 'integer') } : {}),
    ...(creates && (status === 201 || status === 202) ? { Location: header('Where the created resource (or the job) is') } : {}),
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
  for (const [status, response] of Object.entries(spec.responses)) {
    const content = response.schema
      ? { [response.contentType ?? 'application/json']: { schema: response.schema } }
      : Number(status) >= 400
        ? problemResponse(response.description).content
        : undefined;
    responses[status] = { description: response.description, ...(content ? { content } : {}) };
  }
  responses['400'] ??= problemResponse('The request is not valid');
  if (spec.body || spec.rawBody) {
    responses['413'] ??= problemResponse('The body is larger than the API accepts');
    responses['415'] ??= problemResponse(spec.rawBody ? `The body is none of ${spec.rawBody.contentTypes.join(', ')}` : 'The body is not application/json');
  }
  if (spec.auth !== 'public') {
    responses['401'] ??= problemResponse('Missing or invalid credentials');
    responses['403'] ??= problemResponse('The credentials lack a required role or scope');
    responses['429'] ??= problemResponse('Rate limit or quota reached');
  }
  if (spec.params) responses['404'] ??= problemResponse('Not found (or owned by another tenant)');
  responses['500'] ??= problemResponse('Internal error');
  for (const [status, response] of Object.entries(responses)) {
    response.headers = responseHeaders(Number(status), spec.auth !== 'public', spec.method === 'post' && !spec.path.includes(':'));
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
  router[spec.method](spec.path, async (ctx) => {
    const principal = await authorize(ctx, deps, spec.auth);
    const params = parse(spec.params, ctx.params, 'params');
    const query = parse(spec.query, ctx.query, 'query');
    // The body is read only now: after authentication, its rate limits and the cheap checks.
    let body = undefined as z.infer<B>;
    if (spec.body) {
      const raw = (await readBody(ctx)) ?? {};
      await spec.checkRawBody?.(raw, principal);
      body = parse(spec.body, raw, 'body');
    }
    await spec.handler(ctx, { params, query, body, principal });
  });
}
