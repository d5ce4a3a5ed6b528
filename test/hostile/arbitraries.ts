/**
 * fast-check arbitraries for hostile requests: path ids, query strings, JSON bodies (generated,
 * or a valid body with one part made hostile), raw byte bodies (invalid UTF-8, deep nesting),
 * content types and headers. Bodies are built as JSON *text*, so they can carry what JavaScript
 * cannot (1e999, -0, 2^64, lone surrogates, duplicate and `__proto__` keys).
 */
import fc from 'fast-check';

/** Path segments an attacker would try in place of an id (already in their on-the-wire form). */
export const HOSTILE_SEGMENTS: readonly string[] = [
  '../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%2e%2e',
  '..',
  '.',
  '%252e%252e%252f',
  '..%5c..%5cwindows%5cwin.ini',
  "'%3B%20drop%20table%20jobs%3B--",
  "1'%20OR%20'1'%3D'1",
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '%7B00000000-0000-0000-0000-000000000000%7D',
  'not-a-uuid',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'undefined',
  '-1',
  '0',
  '1e308',
  'NaN',
  '18446744073709551616',
  '%00',
  'a%00b',
  '%ff%fe',
  '%E0%A4%A',
  '%',
  '%%',
  '%C0%AF',
  '%ED%A0%80',
  '%F0%9F%92%A9',
  '%E2%80%AE',
  'a'.repeat(5000),
  '%20',
  ';',
  '*',
  'jobs',
  'events',
];

/** Values that break naive query handling (each a complete `key=value` pair list). */
export const HOSTILE_QUERIES: readonly string[] = [
  'limit=1e308',
  'limit=-1',
  'limit=NaN',
  'limit=0x10',
  'limit=18446744073709551616',
  'limit=1&limit=2',
  'limit[]=1',
  'cursor=../../etc/passwd',
  'cursor=%00',
  'cursor=%ff',
  `cursor=${'A'.repeat(300)}`,
  'cursor=eyJfX3Byb3RvX18iOnsieCI6MX19',
  'status=queued&status=running',
  "status='%20or%201=1--",
  'type[$ne]=x',
  '__proto__[polluted]=1',
  'constructor[prototype][polluted]=1',
  'from=2020-02-30&to=9999-99-99',
  'from=-271821-04-20&to=275760-09-13',
  'from=1e308',
  '%E0%A4%A=1',
  'a=%',
  '&&&==&',
  `x=${'y'.repeat(6000)}`,
];

/** JSON texts that are hostile in place of any value. */
const HOSTILE_VALUES: readonly string[] = [
  'null',
  'true',
  '0',
  '-0',
  '1.5',
  '1e308',
  '-1e308',
  '1e999',
  '-1e999',
  '5e-324',
  '18446744073709551616',
  '-9223372036854775809',
  '9007199254740993',
  '"NaN"',
  '"Infinity"',
  '"-0"',
  '""',
  '"   "',
  '"\\u0000"',
  '"a\\u0000b"',
  '"\\ud800"',
  '"\\udfff\\ud800"',
  '"\\u202e\\u0007\\u001b[31m"',
  '"\\ufeff"',
  `"${'x'.repeat(100_000)}"`,
  '"../../etc/passwd"',
  `"'; drop table jobs;--"`,
  '"<script>alert(1)</script>"',
  '"ck_aaaaaaaa_bbbb"',
  '"00000000-0000-0000-0000-000000000000"',
  '[]',
  '{}',
  '[null]',
  '[1e999]',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"$ne":null}',
  '{"$gt":""}',
  `[${new Array(50_000).fill('0').join(',')}]`,
];

/** Keys that pollute prototypes when code merges objects naively. */
export const PROTO_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString', 'hasOwnProperty', 'valueOf'];

export const hostileValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_VALUES) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.double().map((d) => (Number.isFinite(d) ? String(d) : '"NaN"')) },
  { weight: 1, arbitrary: fc.bigInt().map(String) },
);

const PLACEHOLDER = '\u0001HOSTILE\u0001';

type JsonPath = Array<string | number>;

/** Every path into a JSON value (the root excluded). */
function pathsOf(value: unknown, prefix: JsonPath = []): JsonPath[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

function setAt(root: unknown, path: JsonPath, replace: (parent: Record<string | number, unknown>, key: string | number) => void): unknown {
  const copy = structuredClone(root);
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  replace(parent, path[path.length - 1] as string | number);
  return copy;
}

/**
 * A valid body with one hostile change: a value replaced by a hostile JSON text, a key removed,
 * or a polluting key added next to real ones. Some changes leave the body valid, and those
 * requests must succeed.
 */
export function mutatedBody(seed: Record<string, unknown>): fc.Arbitrary<string> {
  const paths = pathsOf(seed);
  const path = fc.constantFrom(...paths);
  const replaced = fc.tuple(path, hostileValue).map(([at, value]) =>
    JSON.stringify(setAt(seed, at, (parent, key) => (parent[key] = PLACEHOLDER))).replace(JSON.stringify(PLACEHOLDER), value),
  );
  const removed = path.map((at) =>
    JSON.stringify(
      setAt(seed, at, (parent, key) => {
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
      }),
    ),
  );
  // `{"__proto__": …}` in JSON text is an own key after JSON.parse; code that copies it with
  // assignment would change a prototype.
  const polluted = fc.tuple(fc.constantFrom(...PROTO_KEYS), hostileValue).map(([key, value]) => {
    const text = JSON.stringify(seed);
    return `{${JSON.stringify(key)}:${value},${text.slice(1)}`;
  });
  const duplicated = fc.constantFrom(...Object.keys(seed)).chain((key) =>
    hostileValue.map((value) => `${JSON.stringify(seed).slice(0, -1)},${JSON.stringify(key)}:${value}}`),
  );
  return fc.oneof({ weight: 4, arbitrary: replaced }, { weight: 1, arbitrary: removed }, { weight: 2, arbitrary: polluted }, { weight: 1, arbitrary: duplicated });
}

/** Whole bodies from nothing: any JSON, polluting objects, deep nesting, broken JSON. */
export const generatedBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null') },
  {
    weight: 2,
    arbitrary: fc
      .anything({ withNullPrototype: true, withObjectString: true, withSparseArray: true, maxDepth: 3 })
      .map((v) => {
        try {
          return JSON.stringify(v) ?? 'null';
        } catch {
          return '{}';
        }
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 8 })), hostileValue), { minLength: 1, maxLength: 4 })
      .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_VALUES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '{',
      '{"a":1}garbage',
      '\ufeff{}',
      'undefined',
      'NaN',
      "{'a':1}",
      '{"a":1,}',
      '[1,]',
      '{"a" 1}',
      '/* c */ {}',
      '{"a":01}',
      '{"a":"\\x41"}',
      '{"a":"\\uZZZZ"}',
      '{"a":"\t"}',
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
    ),
  },
);

/** Invalid UTF-8 sequences (lone continuation bytes, overlong forms, encoded surrogates, 0xFF). */
const INVALID_UTF8: readonly number[][] = [[0xff], [0xfe, 0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]];

/** A JSON text with invalid UTF-8 bytes spliced into (or after) one of its strings. */
export function invalidUtf8Body(seedText: string): fc.Arbitrary<Buffer> {
  return fc.tuple(fc.constantFrom(...INVALID_UTF8), fc.nat()).map(([bytes, pick]) => {
    const quotes = [...seedText.matchAll(/"/g)].map((m) => m.index);
    const at = quotes.length ? (quotes[pick % quotes.length] as number) + 1 : seedText.length;
    return Buffer.concat([Buffer.from(seedText.slice(0, at)), Buffer.from(bytes), Buffer.from(seedText.slice(at))]);
  });
}

export const hostileContentType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/json; charset=x-unknown',
  'application/json, text/plain',
  'application/JSON',
  'application/vnd.api+json',
  'application/json;;;',
  'json',
  '*/*',
  '',
);

/** Extra request headers, valid in form (node sends them) but hostile in content. */
export const hostileHeaders: fc.Arbitrary<Record<string, string>> = fc
  .array(
    fc.oneof(
      fc.constantFrom<[string, string]>(
        ['idempotency-key', ''],
        ['idempotency-key', 'k'.repeat(300)],
        ['idempotency-key', "'; drop table jobs;--"],
        ['idempotency-key', '\u00ff\u00fe'],
        ['x-request-id', '../../etc/passwd'],
        ['x-request-id', 'x'.repeat(10_000)],
        ['x-forwarded-for', '1.1.1.1, ::1, not-an-ip, 999.999.999.999'],
        ['x-forwarded-proto', 'gopher'],
        ['x-forwarded-host', 'evil.example'],
        ['accept', 'application/xml'],
        ['accept', '*/*;q=-1, ;;;'],
        ['accept-encoding', 'br;q=NaN, gzip;q=2, x-unknown'],
        ['accept-language', 'x'.repeat(2000)],
        ['content-encoding', 'gzip'],
        ['content-encoding', 'deflate'],
        ['content-encoding', 'br'],
        ['content-encoding', 'x-unknown'],
        ['content-encoding', 'gzip, gzip, gzip'],
        ['range', 'bytes=0-1,2-3,-1'],
        ['if-none-match', '*'],
        ['if-modified-since', 'yesterday'],
        ['cookie', `${'a=b; '.repeat(500)}__proto__=x`],
        ['origin', 'null'],
        ['sec-fetch-site', 'cross-site'],
        ['x-http-method-override', 'DELETE'],
        ['user-agent', 'x'.repeat(8000)],
        ['referer', 'javascript:alert(1)'],
        ['prefer', 'wait=999999999'],
        ['last-event-id', '-1'],
      ),
      fc.tuple(fc.constantFrom('x-custom', 'idempotency-key', 'x-request-id', 'accept', 'content-language'), fc.string({ unit: 'grapheme-ascii', maxLength: 60 })),
    ),
    { maxLength: 3 },
  )
  .map((pairs) => Object.fromEntries(pairs));
