/**
 * What a parsed JSON body may hold beyond being valid JSON: nesting at most MAX_JSON_DEPTH deep
 * (recursive code further on — validation, JSON.stringify into jsonb — must not run out of stack),
 * and strings, keys included, that PostgreSQL can store: no U+0000 (text and jsonb refuse it) and
 * no unpaired UTF-16 surrogate (jsonb refuses `\ud800`; text would silently get U+FFFD).
 */

/** Deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const unstorable = (text: string): boolean => text.includes('\u0000') || UNPAIRED_SURROGATE.test(text);

/** Where in the body (`body.a.0.b`, as validation errors name it) and what is wrong. */
export interface JsonBodyProblem {
  path: string;
  message: string;
}

/** The first problem of a parsed body, or undefined when it is fine. Walks without recursion. */
export function jsonBodyProblem(root: unknown): JsonBodyProblem | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: root, path: 'body', depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number };
    if (typeof value === 'string') {
      if (unstorable(value)) return { path, message: 'must not contain U+0000 or unpaired surrogates' };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { path, message: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
    if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, path: `${path}.${index}`, depth: depth + 1 }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (unstorable(key)) return { path, message: 'has a key with U+0000 or unpaired surrogates' };
      stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return undefined;
}
