/** Files that many processes may create at once, for generated development keys. */
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Creates `path` (mode 0600, in a 0700 directory) with `make()`'s content unless it exists, and
 * returns what the file holds. The content is written aside and linked into place: the link fails
 * if another process won the race (its file is kept), and nobody ever reads a half-written file.
 */
export function writeOnce(path: string, make: () => string): string {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}`);
  writeFileSync(temp, make(), { mode: 0o600, flag: 'wx' });
  chmodSync(temp, 0o600);
  try {
    linkSync(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(temp);
  }
  return readFileSync(path, 'utf8');
}
