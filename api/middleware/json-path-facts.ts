/**
 * What a JSON text holds at a few object-key paths — an array's length, a number, a string —
 * read by one linear scan of the text, before (and without) `JSON.parse`. Plan bounds on a body's
 * lists use it: parsing a megabyte of coordinates builds ~10^5 arrays and holds the event loop
 * every tenant shares for hundreds of milliseconds, only to end in a refusal the lengths decide.
 *
 * For valid JSON the facts are those of the parsed value: a key given twice counts as its last
 * occurrence (as `JSON.parse` keeps it), and a path under it keeps only what the last occurrence
 * holds. Invalid JSON gives facts of no meaning; the parse that follows refuses it.
 */

/** What the value at a path is; only the kinds the checks need carry their value. */
export type JsonFact =
  | { kind: 'array'; length: number }
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'object' }
  | { kind: 'other' };

export interface JsonFacts {
  /** The fact at a path of object keys from the root (`['params', 'steps']`), undefined when absent. */
  get(path: readonly string[]): JsonFact | undefined;
}

// Keys of a path joined with a character no key of a body that passes the checks holds (U+0000).
const SEP = '\u0000';
const joined = (path: readonly string[]): string => path.join(SEP);

/** An object on a watched path: whether a key comes next, and the path of the current key's value. */
interface Frame {
  path: string;
  expectKey: boolean;
  valuePath: string | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const endsScalar = (c: number): boolean => c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isSpace(c);

/** The index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
}

/** A string token's value (only strings with escapes need decoding). */
function stringValue(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return raw;
  }
}

/**
 * Skips the array or object opening at `start`: the index of its closing bracket (or the text's
 * end) and, for an array, how many items it has. One tight loop with no allocation, as almost all
 * of a large body is lists.
 */
function skipContainer(text: string, start: number): { end: number; items: number } {
  let depth = 0;
  let commas = 0;
  let empty = true;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      if (i < 0) break;
      empty = false;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth > 0) empty = false;
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth === 0) return { end: i, items: empty ? 0 : commas + 1 };
    } else if (c === COMMA) {
      if (depth === 1) commas++;
    } else if (!isSpace(c)) empty = false;
  }
  return { end: text.length, items: empty ? 0 : commas + 1 };
}

/** Scans `text` once for the facts at `paths` (paths of object keys from the root). */
export function jsonPathFacts(text: string, paths: ReadonlyArray<readonly string[]>): JsonFacts {
  const watched = new Set(paths.map(joined));
  // Every watched path and its prefixes: the objects whose keys the scan reads.
  const onPath = new Set<string>();
  for (const path of paths) for (let n = 1; n < path.length; n++) onPath.add(joined(path.slice(0, n)));
  const facts = new Map<string, JsonFact>();
  // Open objects on a watched path; anything else is skipped whole.
  const stack: Frame[] = [];
  let root = true;

  /** A value begins at a path: what an earlier value there left is cleared (a key given twice keeps its last value). */
  const clear = (path: string): void => {
    for (const key of facts.keys()) if (key === path || key.startsWith(path + SEP)) facts.delete(key);
  };

  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c) || c === COLON) continue;
    const top = stack[stack.length - 1];
    if (c === COMMA) {
      if (top) top.expectKey = true;
      continue;
    }
    if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      stack.pop();
      if (stack.length === 0) break;
      continue;
    }
    if (c === QUOTE && top?.expectKey) {
      const end = stringEnd(text, i);
      if (end < 0) break;
      const key = stringValue(text, i, end);
      const path = top.path === '' ? key : top.path + SEP + key;
      top.expectKey = false;
      top.valuePath = watched.has(path) || onPath.has(path) ? path : undefined;
      i = end;
      continue;
    }
    // A value: the root, or the current key's value in an object on a watched path.
    const path = root ? '' : top?.valuePath;
    if (!root && !top) break;
    root = false;
    if (path !== undefined && path !== '') clear(path);
    if (c === OPEN_BRACE && path !== undefined && (path === '' || onPath.has(path))) {
      if (watched.has(path)) facts.set(path, { kind: 'object' });
      stack.push({ path, expectKey: true, valuePath: undefined });
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const skipped = skipContainer(text, i);
      if (path !== undefined && watched.has(path)) facts.set(path, c === OPEN_BRACKET ? { kind: 'array', length: skipped.items } : { kind: 'object' });
      i = skipped.end;
      if (stack.length === 0) break;
      continue;
    }
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) break;
      if (path !== undefined && watched.has(path)) facts.set(path, { kind: 'string', value: stringValue(text, i, end) });
      i = end;
      continue;
    }
    // A number, true, false or null.
    let end = i + 1;
    while (end < n && !endsScalar(text.charCodeAt(end))) end++;
    if (path !== undefined && watched.has(path)) {
      const token = text.slice(i, end);
      const value = Number(token);
      facts.set(path, token === 'true' || token === 'false' || token === 'null' || Number.isNaN(value) ? { kind: 'other' } : { kind: 'number', value });
    }
    i = end - 1;
  }
  return { get: (path) => facts.get(joined(path)) };
}
