/**
 * The scan that bounds a body's lists before it is parsed says what `JSON.parse` would: on many
 * random JSON texts — keys given twice, strings holding quotes, backslashes and brackets, nested
 * lists, any whitespace — the facts at the watched paths are those of the parsed value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonFact, jsonPathFacts } from '../../api/middleware/json-path-facts.ts';

const KEYS = ['type', 'params', 'steps', 'sources', 'lattice', 'obstacles', 'blocked', 'a"b', 'x'];
const PATHS = [['type'], ['params'], ['params', 'steps'], ['params', 'sources'], ['lattice', 'obstacles', 'blocked'], ['a"b']];

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

describe('jsonPathFacts', () => {
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
