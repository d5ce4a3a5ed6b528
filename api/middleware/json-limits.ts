/**
 * What a parsed JSON body may hold beyond being valid JSON: nesting at most MAX_JSON_DEPTH deep
 * (recursive code further on — validation, JSON.stringify into jsonb — must not run out of stack),
 * and strings, keys included, that PostgreSQL can store: no U+0000 (text and jsonb refuse it) and
 * no unpaired UTF-16 surrogate (jsonb refuses `\ud800`; text would silently get U+FFFD).
 *
 * The walk is linear in the body and allocates per container, not per value: one frame for each
 * open array or object (none for an array of numbers), strings checked in place, and a path
 * spelled out only for the problem it reports.
 */

/** Deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

// Any NUL or surrogate: rare, so one scan decides for almost every string.
// eslint-disable-next-line no-control-regex -- finding U+0000 is the point
const SUSPECT = /[\u0000\uD800-\uDFFF]/;
// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const unstorable = (text: string): boolean => SUSPECT.test(text) && (text.includes('\u0000') || UNPAIRED_SURROGATE.test(text));

/** Where in the body (`body.a.0.b`, as validation errors name it) and what is wrong. */
export interface JsonBodyProblem {
  path: string;
  message: string;
}

const isScalar = (value: unknown): boolean => typeof value === 'number' || typeof value === 'boolean' || value === null;

/** Marks a frame with no entries left. */
const DONE = Symbol('done');

/** An open array or object: its entries and the next one to visit. */
type Frame =
  | { items: readonly unknown[]; keys: undefined; next: number }
  | { items: Record<string, unknown>; keys: readonly string[]; next: number };

/** The first problem of a parsed body, or undefined when it is fine. Walks without recursion. */
export function jsonBodyProblem(root: unknown): JsonBodyProblem | undefined {
  const frames: Frame[] = [];
  // The path of the value just entered: the key each open frame last visited.
  const here = (): string => ['body', ...frames.map((f) => (f.keys ? f.keys[f.next - 1] : f.next - 1))].join('.');
  const enter = (value: unknown): string | undefined => {
    if (typeof value === 'string') return unstorable(value) ? 'must not contain U+0000 or unpaired surrogates' : undefined;
    if (value === null || typeof value !== 'object') return undefined;
    if (frames.length >= MAX_JSON_DEPTH) return `is nested deeper than ${MAX_JSON_DEPTH} levels`;
    if (Array.isArray(value)) {
      // An array of numbers (a cell, a shape) needs no frame: nothing in it can be at fault.
      if (value.every(isScalar)) return undefined;
      frames.push({ items: value, keys: undefined, next: 0 });
      return undefined;
    }
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    for (const key of keys) if (unstorable(key)) return 'has a key with U+0000 or unpaired surrogates';
    frames.push({ items: object, keys, next: 0 });
    return undefined;
  };

  let message = enter(root);
  if (message) return { path: 'body', message };
  while (frames.length > 0) {
    const frame = frames[frames.length - 1] as Frame;
    const child = frame.keys ? (frame.next < frame.keys.length ? frame.items[frame.keys[frame.next] as string] : DONE) : frame.next < frame.items.length ? frame.items[frame.next] : DONE;
    if (child === DONE) {
      frames.pop();
      continue;
    }
    frame.next++;
    message = enter(child);
    if (message) return { path: here(), message };
  }
  return undefined;
}
