/**
 * Checks live HTTP answers against the OpenAPI document the API serves: the status is declared
 * for the operation, the media type is one declared for that status, a JSON body validates
 * against its schema (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it), declared headers have
 * their type, and every header that carries API meaning is declared. Everything comes from the
 * document, so a route added to it is checked without touching this file. Each line of an
 * NDJSON body is checked against the schema declared for it.
 */
import { createRequire } from 'node:module';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

// ajv-formats is CommonJS whose export is the plugin itself.
const addFormats = createRequire(import.meta.url)('ajv-formats') as (ajv: Ajv2020) => Ajv2020;

type Json = Record<string, unknown>;

export interface OpenApiOperation {
  operationId?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Json }>;
  requestBody?: { required?: boolean; content: Record<string, { schema?: Json }> };
  responses: Record<string, OpenApiResponse>;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, { required?: boolean; schema?: Json }>;
  content?: Record<string, { schema?: Json }>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: Record<string, Record<string, Json>>;
}

/** One documented operation, found from a method and a concrete path. */
export interface MatchedOperation {
  method: string;
  /** The document's path template, e.g. `/api/jobs/{id}`. */
  template: string;
  operation: OpenApiOperation;
}

/** What was checked: operations by `METHOD template`, with the statuses each answered. */
export type Coverage = Map<string, Set<number>>;

/**
 * Headers of HTTP itself (transport, caching, security policy): not part of an operation's
 * contract. Any other header an answer carries must be declared for its status.
 */
const HTTP_PLUMBING = new Set([
  'access-control-allow-origin',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-security-policy',
  'content-type',
  'date',
  'etag',
  'keep-alive',
  'last-modified',
  'referrer-policy',
  'transfer-encoding',
  'vary',
  'www-authenticate',
  'x-accel-buffering',
  'x-content-type-options',
  'x-frame-options',
]);

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

/** `/api/jobs/{id}` → a RegExp, and how literal it is (literal segments win over parameters). */
function templateMatcher(template: string): { regex: RegExp; literals: number } {
  const segments = template.split('/');
  const regex = new RegExp(
    `^${segments.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`,
  );
  return { regex, literals: segments.filter((s) => !s.startsWith('{')).length };
}

const jsonPointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

const baseType = (mediaType: string) => mediaType.split(';')[0]!.trim().toLowerCase();

const isJsonMediaType = (mediaType: string) => mediaType === 'application/json' || mediaType.endsWith('+json');

/**
 * The document with its object schemas closed: a property an answer sends that the document
 * does not name is a mismatch too (JSON Schema allows unnamed ones by default). Objects that
 * say what else they allow (`additionalProperties`) keep it. A schema that is a member of an
 * `allOf` stays open and the `allOf` closes instead (`unevaluatedProperties`), since each member
 * names only part of the properties.
 */
function closeObjects<T>(document: T): T {
  const allOfMembers = new Set<unknown>();
  const refTargets = new Set<string>();
  const visit = (node: unknown, fn: (schema: Json) => void): void => {
    if (Array.isArray(node)) return node.forEach((n) => visit(n, fn));
    if (!node || typeof node !== 'object') return;
    fn(node as Json);
    for (const value of Object.values(node)) visit(value, fn);
  };
  visit(document, (schema) => {
    if (!Array.isArray(schema.allOf)) return;
    for (const member of schema.allOf as Json[]) {
      allOfMembers.add(member);
      if (typeof member.$ref === 'string') refTargets.add(member.$ref);
    }
  });
  const components = ((document as { components?: { schemas?: Record<string, Json> } }).components?.schemas ?? {}) as Record<string, Json>;
  for (const target of refTargets) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(target)?.[1];
    if (name && components[name]) allOfMembers.add(components[name]);
  }
  visit(document, (schema) => {
    if (Array.isArray(schema.allOf)) {
      if (!('unevaluatedProperties' in schema)) schema.unevaluatedProperties = false;
      return;
    }
    const isObject = schema.type === 'object' || (Array.isArray(schema.type) && schema.type.includes('object'));
    if (isObject && schema.properties && !allOfMembers.has(schema) && !('additionalProperties' in schema)) schema.additionalProperties = false;
  });
  return document;
}

export class OpenApiResponseChecker {
  readonly coverage: Coverage = new Map();
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly matchers: Array<{ method: string; template: string; regex: RegExp; literals: number }>;

  constructor(readonly document: OpenApiDocument) {
    // OpenAPI's own keywords are annotations to a JSON Schema validator.
    this.ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addVocabulary(['discriminator', 'example', 'xml', 'externalDocs']);
    this.ajv.addSchema(closeObjects(structuredClone(document)), 'openapi.json');
    this.matchers = Object.entries(document.paths)
      .flatMap(([template, ops]) =>
        Object.keys(ops)
          .filter((method) => HTTP_METHODS.has(method))
          .map((method) => ({ method, template, ...templateMatcher(template) })),
      )
      .sort((a, b) => b.literals - a.literals);
  }

  /** Every documented operation, as `METHOD template`. */
  operations(): MatchedOperation[] {
    return Object.entries(this.document.paths).flatMap(([template, ops]) =>
      Object.entries(ops)
        .filter(([method]) => HTTP_METHODS.has(method))
        .map(([method, operation]) => ({ method, template, operation })),
    );
  }

  match(method: string, pathname: string): MatchedOperation | undefined {
    const m = method.toLowerCase();
    const found = this.matchers.find((x) => x.method === m && x.regex.test(pathname));
    if (!found) return undefined;
    return { method: m, template: found.template, operation: this.document.paths[found.template]![m]! };
  }

  /**
   * The mismatches between one answer and the document, each a readable line; empty when the
   * answer is exactly what the document says.
   */
  check(method: string, url: string, status: number, headers: Headers, body: string): string[] {
    const { pathname } = new URL(url, 'http://x');
    const where = `${method.toUpperCase()} ${pathname} → ${status}`;
    const matched = this.match(method, pathname);
    if (!matched) return [`${where}: no operation in the document`];
    const key = `${matched.method.toUpperCase()} ${matched.template}`;
    let statuses = this.coverage.get(key);
    if (!statuses) this.coverage.set(key, (statuses = new Set()));
    statuses.add(status);

    const responses = matched.operation.responses;
    const statusKey = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => responses[k]);
    if (!statusKey) return [`${where}: status not declared (declared: ${Object.keys(responses).join(', ')})`];
    const declared = responses[statusKey]!;
    return [...this.checkHeaders(where, declared, headers), ...this.checkBody(where, matched, statusKey, declared, headers, body)];
  }

  private checkHeaders(where: string, declared: OpenApiResponse, headers: Headers): string[] {
    const problems: string[] = [];
    const documented = new Map(Object.entries(declared.headers ?? {}).map(([name, h]) => [name.toLowerCase(), this.resolve(h)]));
    for (const [name, value] of headers) {
      const header = documented.get(name);
      if (!header) {
        if (!HTTP_PLUMBING.has(name)) problems.push(`${where}: header ${name} is sent but not declared`);
        continue;
      }
      const type = (header.schema as { type?: string } | undefined)?.type;
      if (type === 'integer' && !/^-?\d+$/.test(value)) problems.push(`${where}: header ${name} is declared integer, sent "${value}"`);
    }
    for (const [name, header] of documented) {
      if (header.required && !headers.has(name)) problems.push(`${where}: required header ${name} is missing`);
    }
    return problems;
  }

  /** A `$ref` within the document, followed (headers may be shared under `components.headers`). */
  private resolve<T>(node: T | { $ref: string }): T {
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return node as T;
    let target: unknown = this.document;
    for (const part of ref.slice(2).split('/')) target = (target as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (target === undefined) throw new Error(`${ref} is not in the document`);
    return this.resolve(target as T);
  }

  private checkBody(where: string, matched: MatchedOperation, statusKey: string, declared: OpenApiResponse, headers: Headers, body: string): string[] {
    const mediaType = headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
    const content = declared.content ?? {};
    if (!body) {
      return Object.keys(content).length && mediaType ? [`${where}: empty body sent as ${mediaType}`] : [];
    }
    if (!mediaType) return [`${where}: a body without a content-type`];
    // Declared media types may carry parameters (`text/plain; version=0.0.4`): the type is what must match.
    const declaredType = Object.keys(content).find((type) => baseType(type) === mediaType);
    if (!declaredType) return [`${where}: sent as ${mediaType}, declared ${Object.keys(content).join(', ') || 'without a body'}`];
    if (!content[declaredType]!.schema) return [];
    // NDJSON: the declared schema is each line's.
    if (mediaType === 'application/x-ndjson') {
      const validate = this.validator(matched, statusKey, declaredType);
      return body
        .split('\n')
        .filter((line) => line.trim() !== '')
        .flatMap((line, i) => {
          let value: unknown;
          try {
            value = JSON.parse(line);
          } catch {
            return [`${where}: line ${i + 1} is not JSON`];
          }
          return validate(value) ? [] : (validate.errors ?? []).map((e) => `${where}: line ${i + 1}${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`.trim());
        });
    }
    if (!isJsonMediaType(mediaType)) return [];
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return [`${where}: ${mediaType} body is not JSON`];
    }
    const validate = this.validator(matched, statusKey, declaredType);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${where}: body${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`.trim());
  }

  private validator(matched: MatchedOperation, statusKey: string, mediaType: string): ValidateFunction {
    const pointer = `#/${jsonPointer('paths', matched.template, matched.method, 'responses', statusKey, 'content', mediaType, 'schema')}`;
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi.json${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }
}
