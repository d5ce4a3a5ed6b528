/**
 * What every `… list` command shares: `--limit`, `--cursor` and `--all`, and printing a page as a
 * table (or JSON) with a note naming the command for the next page.
 */
import type { Command } from 'commander';
import type { CursorPage } from '../../client/paging.ts';
import { parseCount } from './arguments.ts';
import { type Column, renderTable } from './format.ts';
import type { Session } from './session.ts';

/** The paging flags of a list command. */
export interface PagingFlags {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

/** Adds `--limit`, `--cursor` and `--all` to a list command. */
export function withPagingOptions(command: Command, what: string): Command {
  return command
    .option('--limit <n>', `${what} per page (1-100)`, parseCount)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .option('--all', 'every page');
}

/** One page (`--cursor`), or with `--all` every item of every page (100 a page unless `--limit`). */
export async function listPages<T>(
  flags: PagingFlags,
  source: { page(limit: number | undefined, cursor: string | undefined): Promise<CursorPage<T>>; all(limit: number): AsyncIterable<T> },
): Promise<CursorPage<T>> {
  if (!flags.all) return source.page(flags.limit, flags.cursor);
  const data: T[] = [];
  for await (const item of source.all(flags.limit ?? 100)) data.push(item);
  return { data, next_cursor: null };
}

/**
 * Prints a page as JSON (`--json`) or as a table, then how to get the next page. An empty list
 * prints `empty` (what there is none of, and how to make one) instead of a bare header.
 */
export function printPage<T>(session: Session, page: CursorPage<T>, columns: readonly Column<T>[], listCommand: string, empty: string): void {
  if (session.json) {
    session.printJson({ data: page.data, next_cursor: page.next_cursor });
    return;
  }
  if (page.data.length === 0 && !page.next_cursor) {
    session.note(empty);
    return;
  }
  session.out(renderTable(page.data, columns));
  if (page.next_cursor) session.note(`more: ${listCommand} --cursor ${page.next_cursor}`);
}
