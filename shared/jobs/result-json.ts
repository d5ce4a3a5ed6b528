/**
 * `JSON.stringify` for values that hold job results whose paths are {@link CellPath}s (a worker's
 * results, shared/lattice/cell-path.ts): each path is written as its coordinate lists' JSON text,
 * the same text `JSON.stringify` writes for the lists themselves, so the stored result is the
 * same as if the path had been arrays, without an array per cell ever existing.
 */
import { randomUUID } from 'node:crypto';
import { CellPath } from '../lattice/cell-path.ts';

/** `JSON.stringify(value)`, with every {@link CellPath} inside it written as its coordinate lists. */
export function stringifyWithPaths(value: unknown): string {
  const paths: CellPath[] = [];
  let mark: string | undefined;
  // Each path hands itself over through its toJSON: no replacer, so JSON.stringify calls no
  // JavaScript for the other keys (a replacer was most of a group commit's parameter's cost).
  CellPath.writing = (path) => {
    // A random mark per call: no string in the value can spell it by chance.
    mark ??= `\u0001cell-path-${randomUUID()}`;
    paths.push(path);
    return `${mark}-${paths.length - 1}`;
  };
  let text: string;
  try {
    text = JSON.stringify(value);
  } finally {
    CellPath.writing = undefined;
  }
  if (mark === undefined) return text;
  // The mark's \u0001 is written escaped, as JSON.stringify writes every control character.
  const written = JSON.stringify(mark).slice(1, -1);
  const pieces = text.split(new RegExp(`"${written.replace(/\\/g, '\\\\')}-(\\d+)"`));
  // split with one capture group: text, index, text, index, …, text.
  for (let k = 1; k < pieces.length; k += 2) pieces[k] = paths[Number(pieces[k])]!.json();
  return pieces.join('');
}
