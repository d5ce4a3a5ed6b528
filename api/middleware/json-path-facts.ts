/**
 * What a JSON text holds at a few paths — an array's length, a number, a string — read by one
 * linear scan of the text, before (and without) `JSON.parse`. Plan bounds on a body's lists use
 * it: parsing a megabyte of coordinates builds ~10^5 arrays and holds the event loop every tenant
 * shares for hundreds of milliseconds, only to end in a refusal the lengths decide.
 *
 * A path is object keys from the root, where `*` (ITEM) stands for every item of an array: watch
 * `['jobs', '*', 'lattice']` and read `get(['jobs', '3', 'lattice'])` for the fourth item's.
 *
 * For valid JSON the facts are those of the parsed value: a key given twice counts as its last
 * occurrence (as `JSON.parse` keeps it), and a path under it keeps only what the last occurrence
 * holds. Invalid JSON gives facts of no meaning; the parse that follows refuses it.
 */

/** In a watched path: every item of an array (read back with the item's index as the key). */
export const ITEM = '*';

/** What the value at a path is; only the kinds the checks need carry their value. */
export type JsonFact =
  | { kind: 'array'; length: number }
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'object' }
  | { kind: 'other' };

export interface JsonFacts {
  /** The fact at a path from the root (`['params', 'steps']`, `['jobs', '0', 'type']`), undefined when absent. */
  get(path: readonly string[]): JsonFact | undefined;
}

// Keys of a path joined with a character no key of a body that passes the checks holds (U+0000).
const SEP = '\u0000';
const joined = (path: readonly string[]): string => path.join(SEP);

/** What the scan learnt at a path: its fact, and the values under it by key (array items by index). */
interface FactNode {
  fact?: JsonFact;
  children?: Map<string, FactNode>;
}

/**
 * A value beginning under `parent` at `key`: a fresh node, replacing what an earlier value there
 * left (a key given twice keeps its last value, and what lies under it).
 */
function begin(parent: FactNode, key: string): FactNode {
  const node: FactNode = {};
  (parent.children ??= new Map()).set(key, node);
  return node;
}

/**
 * An object or array on a watched path: its node, and its `pattern` (the keys from the root
 * joined, ITEM for array indices: what the watched paths are matched against).
 */
interface Frame {
  array: boolean;
  node: FactNode;
  pattern: string;
  /** An object: whether a key comes next, the current key and its value's pattern, and whether that value is watched or on a watched path. */
  expectKey: boolean;
  key: string;
  valuePattern: string;
  valueOnPath: boolean;
  /** An array: the index of the current item. */
  index: number;
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

/** Scans `text` once for the facts at `paths` (object keys, or ITEM for every item of an array). */
export function jsonPathFacts(text: string, paths: ReadonlyArray<readonly string[]>): JsonFacts {
  const watched = new Set(paths.map(joined));
  // Every watched path and its prefixes: the objects and arrays whose insides the scan reads.
  const onPath = new Set<string>();
  for (const path of paths) for (let n = 1; n < path.length; n++) onPath.add(joined(path.slice(0, n)));
  const child = (parent: string, key: string): string => (parent === '' ? key : parent + SEP + key);
  // The root's value is the root's only child, under the key ''.
  const top: FactNode = {};
  // Open containers on a watched path; anything else is skipped whole.
  const stack: Frame[] = [];
  let root = true;
  const open = (array: boolean, node: FactNode, pattern: string): void => {
    stack.push({ array, node, pattern, expectKey: !array, key: '', valuePattern: '', valueOnPath: false, index: 0 });
  };

  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c) || c === COLON) continue;
    const frame = stack[stack.length - 1];
    if (c === COMMA) {
      if (frame?.array) frame.index++;
      else if (frame) frame.expectKey = true;
      continue;
    }
    if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      stack.pop();
      // An array's length is known at its end: the items begun.
      if (frame?.array && watched.has(frame.pattern)) frame.node.fact = { kind: 'array', length: frame.node.children?.size ?? 0 };
      if (stack.length === 0) break;
      continue;
    }
    if (c === QUOTE && frame && !frame.array && frame.expectKey) {
      const end = stringEnd(text, i);
      if (end < 0) break;
      frame.key = stringValue(text, i, end);
      frame.expectKey = false;
      frame.valuePattern = child(frame.pattern, frame.key);
      frame.valueOnPath = watched.has(frame.valuePattern) || onPath.has(frame.valuePattern);
      i = end;
      continue;
    }
    // A value: the root, the current key's value in an object on a watched path, or an item of an array on one.
    if (!root && !frame) break;
    let node: FactNode | undefined;
    let pattern = '';
    if (root) node = begin(top, '');
    else if (frame?.array) {
      pattern = child(frame.pattern, ITEM);
      // Every item begins a node (the array's length counts them); only watched ones learn more.
      node = begin(frame.node, String(frame.index));
      if (!watched.has(pattern) && !onPath.has(pattern)) node = undefined;
    } else if (frame?.valueOnPath) {
      pattern = frame.valuePattern;
      node = begin(frame.node, frame.key);
    } else if (frame) {
      // A key given twice: what its earlier value left goes.
      frame.node.children?.delete(frame.key);
    }
    root = false;
    if (c === OPEN_BRACE && node && (pattern === '' || onPath.has(pattern))) {
      if (watched.has(pattern)) node.fact = { kind: 'object' };
      open(false, node, pattern);
      continue;
    }
    const items = child(pattern, ITEM);
    if (c === OPEN_BRACKET && node && (onPath.has(items) || watched.has(items))) {
      open(true, node, pattern);
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const skipped = skipContainer(text, i);
      if (node && watched.has(pattern)) node.fact = c === OPEN_BRACKET ? { kind: 'array', length: skipped.items } : { kind: 'object' };
      i = skipped.end;
      if (stack.length === 0) break;
      continue;
    }
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) break;
      if (node && watched.has(pattern)) node.fact = { kind: 'string', value: stringValue(text, i, end) };
      i = end;
      continue;
    }
    // A number, true, false or null.
    let end = i + 1;
    while (end < n && !endsScalar(text.charCodeAt(end))) end++;
    if (node && watched.has(pattern)) {
      const token = text.slice(i, end);
      const value = Number(token);
      node.fact = token === 'true' || token === 'false' || token === 'null' || Number.isNaN(value) ? { kind: 'other' } : { kind: 'number', value };
    }
    i = end - 1;
  }
  return {
    get(path) {
      let node = top.children?.get('');
      for (const key of path) node = node?.children?.get(key);
      return node?.fact;
    },
  };
}
