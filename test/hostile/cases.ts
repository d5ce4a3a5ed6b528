/**
 * Turns the API's route list into hostile requests: for each route, fast-check samples a path
 * (ids replaced by hostile segments, unknown ids, another tenant's ids or the caller's own), a
 * query, credentials (real or forged), extra headers and a body.
 */
import fc from 'fast-check';
import {
  generatedBody,
  HOSTILE_QUERIES,
  HOSTILE_SEGMENTS,
  hostileContentType,
  hostileHeaders,
  invalidUtf8Body,
  mutatedBody,
} from './arbitraries.ts';
import type { HostileRequest } from './raw-http.ts';

export interface RouteInfo {
  /** Lower-case method. */
  method: string;
  /** Router pattern, e.g. `/api/jobs/:id`. */
  path: string;
  /** Needs credentials (the OpenAPI operation names a bearer scheme). */
  protected: boolean;
  /** Takes a JSON body. */
  hasBody: boolean;
}

/** A credential to send, and whether it is genuine. */
export interface Credential {
  name: string;
  authorization?: string;
  genuine: boolean;
}

export interface CaseContext {
  /** Valid ids per path parameter, own and another tenant's, by route prefix (`/api/jobs`). */
  idsFor(route: RouteInfo, param: string): { own: string[]; foreign: string[] };
  /** A valid body per route key (`POST /api/jobs`), when known. */
  seeds: Record<string, () => Record<string, unknown>>;
  /** Real credentials that fit the route (at least one), and forged ones. */
  credentialsFor(route: RouteInfo): { genuine: Credential[]; forged: Credential[] };
}

export interface HostileCase {
  /** `POST /api/jobs`: the route the case aims at. */
  route: string;
  /** What kind of hostility (for the summary). */
  kind: string;
  credential: Credential;
  request: HostileRequest;
  /** Huge bodies: the server may close the connection while the client still sends. */
  mayReset?: boolean;
  /** The exact status required (regression cases for bugs this suite found). */
  expectStatus?: number;
}

export const routeKey = (route: Pick<RouteInfo, 'method' | 'path'>): string => `${route.method.toUpperCase()} ${route.path}`;

const PARAM = /:([A-Za-z0-9_]+)|\{\/\*[A-Za-z0-9_]+\}/g;

function pathArb(route: RouteInfo, context: CaseContext): fc.Arbitrary<{ path: string; idKind: string }> {
  const params = [...route.path.matchAll(PARAM)];
  if (!params.length) return fc.constant({ path: route.path, idKind: 'none' });
  const segments = params.map((match) => {
    if (!match[1]) {
      // A wildcard tail (the queue board): hostile sub-paths.
      return fc.constantFrom(
        { value: '', kind: 'tail' },
        { value: '/api/queues', kind: 'tail' },
        { value: '/../../etc/passwd', kind: 'traversal' },
        { value: '/api/queues/t.x/retry/failed', kind: 'tail' },
        { value: '/%2e%2e/%2e%2e/package.json', kind: 'traversal' },
      );
    }
    const { own, foreign } = context.idsFor(route, match[1]);
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS).map((value) => ({ value, kind: 'hostile-id' })) },
      { weight: 2, arbitrary: fc.uuid().map((value) => ({ value, kind: 'unknown-id' })) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => ({ value: encodeURIComponent(s) || 'x', kind: 'unicode-id' })) },
      ...(own.length ? [{ weight: 3, arbitrary: fc.constantFrom(...own).map((value) => ({ value, kind: 'own-id' })) }] : []),
      ...(foreign.length ? [{ weight: 2, arbitrary: fc.constantFrom(...foreign).map((value) => ({ value, kind: 'foreign-id' })) }] : []),
    );
  });
  return fc.tuple(...segments).map((values) => {
    let i = 0;
    const path = route.path.replace(PARAM, () => (values[i++] as { value: string }).value);
    const kinds = values.map((v) => v.kind);
    return { path, idKind: kinds.find((k) => k !== 'own-id' && k !== 'tail') ?? kinds[0] ?? 'none' };
  });
}

function bodyArb(route: RouteInfo, context: CaseContext): fc.Arbitrary<{ body: Buffer | undefined; kind: string; contentType: string | undefined }> {
  const seed = context.seeds[routeKey(route)];
  const json = (kind: string) => (text: string) => ({ body: Buffer.from(text), kind, contentType: 'application/json' as string | undefined });
  const options: Array<fc.WeightedArbitrary<{ body: Buffer | undefined; kind: string; contentType: string | undefined }>> = [
    { weight: 3, arbitrary: generatedBody.map(json('generated-body')) },
  ];
  if (seed) {
    options.push(
      { weight: 6, arbitrary: fc.constant(null).chain(() => mutatedBody(seed())).map(json('mutated-body')) },
      { weight: 3, arbitrary: fc.constant(null).chain(() => fc.constant(JSON.stringify(seed()))).map(json('valid-body')) },
      { weight: 1, arbitrary: fc.constant(null).chain(() => invalidUtf8Body(JSON.stringify(seed()))).map((body) => ({ body, kind: 'invalid-utf8', contentType: 'application/json' })) },
    );
  }
  options.push({
    weight: 1,
    arbitrary: fc.tuple(seed ? fc.constant(null).map(() => JSON.stringify(seed())) : generatedBody, hostileContentType).map(([text, contentType]) => ({
      body: Buffer.from(text),
      kind: 'wrong-content-type',
      contentType,
    })),
  });
  const withBody = fc.oneof(...options);
  if (route.hasBody) return withBody;
  // A body where none belongs, now and then.
  return fc.oneof({ weight: 9, arbitrary: fc.constant({ body: undefined, kind: 'no-body', contentType: undefined }) }, { weight: 1, arbitrary: withBody });
}

function credentialArb(route: RouteInfo, context: CaseContext): fc.Arbitrary<Credential> {
  const { genuine, forged } = context.credentialsFor(route);
  return fc.oneof(
    { weight: 7, arbitrary: fc.constantFrom(...genuine) },
    { weight: 2, arbitrary: fc.constantFrom(...forged) },
    { weight: 1, arbitrary: fc.constant<Credential>({ name: 'none', genuine: false }) },
  );
}

export function caseArb(route: RouteInfo, context: CaseContext): fc.Arbitrary<HostileCase> {
  return fc
    .record({
      target: pathArb(route, context),
      query: fc.option(fc.array(fc.constantFrom(...HOSTILE_QUERIES), { minLength: 1, maxLength: 3 }), { freq: 2 }),
      credential: credentialArb(route, context),
      extra: fc.option(hostileHeaders, { freq: 2 }),
      body: bodyArb(route, context),
    })
    .map(({ target, query, credential, extra, body }) => {
      const headers: Record<string, string> = { ...(extra ?? {}) };
      if (credential.authorization !== undefined) headers.authorization = credential.authorization;
      if (body.contentType !== undefined) headers['content-type'] = body.contentType;
      const kinds = [target.idKind !== 'none' ? target.idKind : undefined, query ? 'hostile-query' : undefined, body.kind !== 'no-body' ? body.kind : undefined];
      return {
        route: routeKey(route),
        kind: kinds.filter(Boolean).join('+') || 'plain',
        credential,
        request: {
          method: route.method.toUpperCase(),
          path: query ? `${target.path}?${query.join('&')}` : target.path,
          headers,
          body: body.body,
        },
      };
    });
}

/** Samples `count` cases for a route, reproducibly from `seed`. */
export function sampleCases(route: RouteInfo, context: CaseContext, count: number, seed: number): HostileCase[] {
  return fc.sample(caseArb(route, context), { numRuns: count, seed });
}
