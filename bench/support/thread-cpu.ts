/**
 * CPU time of each thread of this process (Linux `/proc/self/task/<tid>/stat`): the busiest
 * thread's share of a run is the kernel thread's CPU, a figure a loaded machine moves less than
 * wall time. Empty where /proc is missing.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of `stat`'s utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** ms of CPU (user + system) per thread id. */
export function threadCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start at state; utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** The largest CPU ms one thread spent between two snapshots. */
export function busiestThreadMs(before: Map<number, number>, after: Map<number, number>): number {
  let most = 0;
  for (const [tid, ms] of after) most = Math.max(most, ms - (before.get(tid) ?? 0));
  return most;
}
