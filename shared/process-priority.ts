/**
 * A process's CPU priority, every thread of it: Linux keeps a nice value per thread, and
 * `setpriority` on the process id alone changes its main thread only. Threads started later
 * inherit the value of the thread that starts them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Sets `nice` (0–19) on every thread of `pid`; returns how many threads it set. */
export function reniceThreads(pid: number, nice: number): number {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new Error(`nice must be a whole number from 0 to 19, not ${nice}`);
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) {
    // No per-thread view (not Linux): the process's own value is all there is to set.
    setPriority(pid, nice);
    return 1;
  }
  let threads = 0;
  for (const tid of readdirSync(tasks)) {
    try {
      setPriority(Number(tid), nice);
      threads++;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return threads;
}

/** The nice value of every thread of `pid` (Linux; empty elsewhere). */
export function threadNiceValues(pid: number): number[] {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return [];
  const values: number[] = [];
  for (const tid of readdirSync(tasks)) {
    try {
      // Fields after the command name, which is in parentheses and may hold spaces: state is the
      // 3rd field of the line, nice the 19th.
      const stat = readFileSync(`${tasks}/${tid}/stat`, 'utf8');
      values.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return values;
}
