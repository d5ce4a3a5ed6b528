/**
 * Compares a command's output with the lines the README shows for it. The stable parts match
 * exactly; ids, times and durations match as patterns:
 * - a uuid matches any uuid, and the README's id stands for the one printed from then on (so a
 *   later command that uses it gets the real one); `4e65f14c-…` is a uuid the same way;
 * - `88ms`, `0s`, and JSON numbers under keys ending in `_s` or `_ms`, match any number;
 * - `…` matches anything within a line, and a line of just `…` any further lines;
 * - a closing remark in parentheses, lowercase and of several words — `(asked on the terminal; …)`,
 *   `(a live bar while it runs)` — is the README talking, not output.
 */

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const TOKENS = new RegExp(
  [`(${UUID}|[0-9a-f]{8}-…)`, '((?<="\\w+_(?:s|ms)":)\\d+(?:\\.\\d+)?)', '(\\b\\d+(?:\\.\\d+)?(?:ms|s)\\b)', '(…)'].join('|'),
  'g',
);
const REMARK = /\s+\([a-z][^)]*\s[^)]*\)$/;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** README ids and what the run printed for them. */
export type Bindings = Map<string, string>;

function linePattern(line: string, bindings: Bindings): { regex: RegExp; ids: string[] } {
  const text = line.replace(REMARK, '').trimEnd();
  const ids: string[] = [];
  let source = '';
  let last = 0;
  for (const match of text.matchAll(TOKENS)) {
    source += escape(text.slice(last, match.index));
    last = match.index + match[0].length;
    const [, id, jsonNumber, duration] = match;
    if (id !== undefined) {
      const bound = bindings.get(id);
      if (bound !== undefined) source += escape(bound);
      else {
        source += `(${UUID})`;
        ids.push(id);
      }
    } else if (jsonNumber !== undefined) source += '\\d+(?:\\.\\d+)?';
    else if (duration !== undefined) source += '\\d+(?:\\.\\d+)?(?:ms|s|m)';
    else source += '.*';
  }
  source += escape(text.slice(last));
  return { regex: new RegExp(`^${source}$`), ids };
}

/**
 * Null when `actual` shows what `expected` says (recording the ids it binds), else what differs.
 * `substitutions` rewrite the README's text first (its `localhost:8000` is the test's stack).
 */
export function compareOutput(expected: string[], actual: string[], bindings: Bindings, substitutions: Array<[string, string]> = []): string | null {
  const lines = actual.map((l) => l.trimEnd());
  for (const [i, raw] of expected.entries()) {
    const line = substitutions.reduce((text, [from, to]) => text.replaceAll(from, to), raw);
    if (line.trim() === '…') return null;
    const got = lines[i];
    const { regex, ids } = linePattern(line, bindings);
    const match = got === undefined ? null : regex.exec(got);
    if (!match) return `line ${i + 1}: the README shows\n  ${raw}\nthe command printed\n  ${got ?? '(nothing more)'}\nwhole output:\n${lines.join('\n')}`;
    ids.forEach((id, k) => bindings.set(id, match[k + 1] as string));
  }
  if (lines.length > expected.length) return `more output than the README shows:\n${lines.slice(expected.length).join('\n')}`;
  return null;
}
