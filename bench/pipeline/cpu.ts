/**
 * CPU time spent by processes, read from /proc (Linux): the benchmark divides it by the jobs done
 * to get CPU milliseconds per job for each part of the stack — a figure other load on the machine
 * does not distort the way it distorts jobs per second.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (`getconf CLK_TCK`, 100 on Linux). */
const TICKS_PER_S = 100;

/** User + system CPU of a process so far, in ms (0 when it is gone or /proc is missing). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** CPU of several processes, summed, in ms. */
export function totalCpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
}

/** This process's CPU so far, in ms. */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
