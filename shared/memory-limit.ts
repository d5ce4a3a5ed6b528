/**
 * How much memory this process may use: the cgroup's limit when it sets one (a container, a
 * Kubernetes pod), else the machine's RAM. cgroup v2 writes `max` for no limit; v1 writes a huge
 * number instead, so a limit above the RAM counts as none.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

const CGROUP_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

/** The cgroup memory limit in bytes, or undefined when none is set or readable. */
export function cgroupMemoryLimit(files: readonly string[] = CGROUP_FILES): number | undefined {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    if (text === 'max') return undefined;
    const bytes = Number(text);
    if (Number.isSafeInteger(bytes) && bytes > 0) return bytes;
  }
  return undefined;
}

/** The memory this process may use: the cgroup limit, or the RAM when that is smaller or unset. */
export function processMemoryLimit(files?: readonly string[]): number {
  const ram = totalmem();
  const cgroup = cgroupMemoryLimit(files);
  return cgroup !== undefined && cgroup < ram ? cgroup : ram;
}

/** A worker's memory budget: the setting, or the process limit minus the headroom (at least 64 MiB). */
export function workerMemoryBudget(config: { WORKER_MEMORY_BUDGET_BYTES?: number | undefined; WORKER_MEMORY_HEADROOM_BYTES: number }): number {
  if (config.WORKER_MEMORY_BUDGET_BYTES !== undefined) return config.WORKER_MEMORY_BUDGET_BYTES;
  return Math.max(64 * 1024 * 1024, processMemoryLimit() - config.WORKER_MEMORY_HEADROOM_BYTES);
}
