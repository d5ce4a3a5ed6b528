/**
 * The scan that bounds a body's lists before it is parsed says what `JSON.parse` would: on many
 * random JSON texts — keys given twice, strings holding quotes, backslashes and brackets, nested
 * lists, any whitespace — the facts at the watched paths are those of the parsed value, also at
 * paths through every item of an array (ITEM).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ITEM, type JsonFact, jsonPathFacts } from '../../api/middleware/json-path-facts.ts';

const KEYS = ['type', 'params', 'steps', 'sources', 'lattice', 'obstacles', 'blocked', 'a"b', 'x', 'jobs', '*', '0'];
const PATHS = [['type'], ['params'], ['params', 'steps'], ['params', 'sources'], ['lattice', 'obstacles', 'blocked'], ['a"b']];
/** Paths through the items of arrays, as a batch's checks watch them. */
const ITEM_PATHS = [['jobs'], ['jobs', ITEM, 'lattice', 'obstacles', 'blocked'], ['jobs', ITEM, 'type'], ['jobs', ITEM, ITEM], ['x', ITEM, 'params']];

const space = fc.constantFrom('', ' ', '\n', '\t ', '\r\n  ');
const key = fc.constantFrom(...KEYS);
const scalar = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
  fc.integer().map(String),
  fc.constantFrom('true', 'false', 'null', '1e3', '-0.5E-2'),
  fc.string({ unit: fc.constantFrom('a', '"', '\\', '[', ']', '{', '}', ',', ':', 'é', '\u2028') }).map((s) => JSON.stringify(s)),
  fc.constantFrom('diffusion', 'type').map((s) => JSON.stringify(s)),
);

/** JSON text with keys possibly repeated (which JSON.stringify never writes). */
const value: fc.Memo<string> = fc.memo((depth) =>
  depth <= 1
    ? scalar
    : fc.oneof(
        scalar,
        fc.tuple(space, fc.array(value(depth - 1), { maxLength: 6 })).map(([s, items]) => `[${s}${items.join(`${s},`)}]`),
        fc.tuple(space, fc.array(fc.tuple(key, value(depth - 1)), { maxLength: 5 })).map(([s, entries]) =>
          `{${s}${entries.map(([k, v]) => `${JSON.stringify(k)}${s}:${v}`).join(`,${s}`)}${s}}`,
        ),
      ),
);

/** The fact at a path of the parsed value. */
function expected(parsed: unknown, path: readonly string[]): JsonFact | undefined {
  let at: unknown = parsed;
  for (const k of path) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, k)) return undefined;
    at = (at as Record<string, unknown>)[k];
  }
  if (Array.isArray(at)) return { kind: 'array', length: at.length };
  if (typeof at === 'number') return { kind: 'number', value: at };
  if (typeof at === 'string') return { kind: 'string', value: at };
  if (typeof at === 'object' && at !== null) return { kind: 'object' };
  return { kind: 'other' };
}

/**
 * Every concrete path a watched path with ITEM names in the parsed value — each index of each
 * array, and one past the end — with the fact JSON.parse gives there (ITEM reads only arrays).
 */
function concretePaths(parsed: unknown, path: readonly string[], prefix: string[] = []): Array<{ path: string[]; fact: JsonFact | undefined }> {
  if (path.length === 0) return [{ path: prefix, fact: parsed === undefined ? undefined : expected(parsed, []) }];
  const [head, ...rest] = path as [string, ...string[]];
  if (head !== ITEM) {
    const next = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.hasOwn(parsed, head) ? (parsed as Record<string, unknown>)[head] : undefined;
    return concretePaths(next, rest, [...prefix, head]);
  }
  const items: unknown[] = Array.isArray(parsed) ? parsed : [];
  return [...items.flatMap((item, i) => concretePaths(item, rest, [...prefix, String(i)])), ...concretePaths(undefined, rest, [...prefix, String(items.length)])];
}

describe('jsonPathFacts', () => {
  it('finds at each item of a watched array what JSON.parse finds there', () => {
    fc.assert(
      fc.property(
        fc.tuple(space, fc.array(fc.tuple(key, value(5)), { maxLength: 8 })).map(([s, entries]) => `${s}{${entries.map(([k, v]) => `${JSON.stringify(k)}:${s}${v}`).join(',')}}${s}`),
        (text) => {
          const parsed = JSON.parse(text) as unknown;
          const facts = jsonPathFacts(text, [...ITEM_PATHS, ...PATHS]);
          for (const watched of [...ITEM_PATHS, ...PATHS]) {
            for (const { path, fact } of concretePaths(parsed, watched)) expect(facts.get(path), `${path.join('.')} in ${text}`).toEqual(fact);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reads the lists of a thousand jobs, each by its index', () => {
    const jobs = Array.from({ length: 1000 }, (_, i) => ({ type: 'components', lattice: { shape: [9, 9], obstacles: { blocked: Array.from({ length: i % 7 }, () => [1, 2]) } }, params: { x: [[1]] } }));
    const text = JSON.stringify({ lattice: { shape: [2] }, jobs, defaults: { type: 'x' } });
    const facts = jsonPathFacts(text, [['jobs'], ['jobs', ITEM, 'lattice', 'obstacles', 'blocked']]);
    expect(facts.get(['jobs'])).toEqual({ kind: 'array', length: 1000 });
    for (let i = 0; i < 1000; i++) expect(facts.get(['jobs', String(i), 'lattice', 'obstacles', 'blocked'])).toEqual({ kind: 'array', length: i % 7 });
  });

  it('finds at each watched path what JSON.parse finds there', () => {
    fc.assert(
      fc.property(
        fc.tuple(space, fc.array(fc.tuple(key, value(4)), { maxLength: 8 })).map(([s, entries]) => `${s}{${entries.map(([k, v]) => `${JSON.stringify(k)}:${s}${v}`).join(',')}}${s}`),
        (text) => {
          const parsed = JSON.parse(text) as unknown;
          const facts = jsonPathFacts(text, PATHS);
          for (const path of PATHS) expect(facts.get(path), `${path.join('.')} in ${text}`).toEqual(expected(parsed, path));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('counts a list of a hundred thousand cells', () => {
    const blocked = Array.from({ length: 100_000 }, (_, i) => [i % 10, (i >> 3) % 10, [i % 7]]);
    const text = JSON.stringify({ lattice: { shape: [10, 10, 10], obstacles: { blocked, note: 'x]' } }, type: 'components' });
    const facts = jsonPathFacts(text, [['lattice', 'obstacles', 'blocked'], ['type']]);
    expect(facts.get(['lattice', 'obstacles', 'blocked'])).toEqual({ kind: 'array', length: 100_000 });
    expect(facts.get(['type'])).toEqual({ kind: 'string', value: 'components' });
  });
});
