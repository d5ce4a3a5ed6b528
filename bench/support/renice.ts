/**
 * Lowers the CPU priority of a process the benchmark started, every thread of it (Linux keeps a
 * nice value per thread: `setpriority` on the process id alone changes its main thread only).
 * Threads started later keep the value they inherit from the thread that starts them.
 */
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Sets `nice` (0–19) on every thread of `pid`; returns how many threads it set. */
export function reniceProcess(pid: number, nice: number): number {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new Error(`nice must be a whole number from 0 to 19, not ${nice}`);
  let threads = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      setPriority(Number(tid), nice);
      threads++;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return threads;
}
