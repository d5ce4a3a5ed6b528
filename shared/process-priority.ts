/**
 * A process's CPU priority, every thread of it: Linux keeps a nice value per thread, and
 * `setpriority` on the process id alone changes its main thread only. Threads started later
 * inherit the value of the thread that starts them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Sets `nice` (0–19) on every thread of `pid`. */
export function reniceThreads(pid: number, nice: number): void {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new Error(`nice must be a whole number from 0 to 19, not ${nice}`);
  // No per-thread view (not Linux): the process's own value is all there is to set.
  if (!eachThread(pid, (tid) => setPriority(tid, nice))) setPriority(pid, nice);
}

/** The nice value of every thread of `pid` (Linux; empty elsewhere). */
export function threadNiceValues(pid: number): number[] {
  const values: number[] = [];
  eachThread(pid, (tid, dir) => {
    // Fields after the command name, which is in parentheses and may hold spaces: state is the
    // 3rd field of the line, nice the 19th.
    const stat = readFileSync(`${dir}/stat`, 'utf8');
    values.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  });
  return values;
}

/** Calls `visit` for every thread of `pid` still there; false where /proc has no per-thread view. */
function eachThread(pid: number, visit: (tid: number, dir: string) => void): boolean {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return false;
  for (const tid of readdirSync(tasks)) {
    try {
      visit(Number(tid), `${tasks}/${tid}`);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return true;
}
