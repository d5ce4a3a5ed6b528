/** The memory a worker's budget is derived from: the cgroup limit (v2 or v1), or the RAM. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupMemoryLimit, processMemoryLimit, workerMemoryBudget } from '../../shared/memory-limit.ts';

const dir = mkdtempSync(join(tmpdir(), 'cgroup-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('memory limit', () => {
  it('reads a cgroup v2 limit, treats "max" as none, and falls back to v1', () => {
    expect(cgroupMemoryLimit([file('v2', '2147483648\n')])).toBe(2 ** 31);
    expect(cgroupMemoryLimit([file('v2max', 'max\n')])).toBeUndefined();
    expect(cgroupMemoryLimit([join(dir, 'absent'), file('v1', '1073741824\n')])).toBe(2 ** 30);
    expect(cgroupMemoryLimit([join(dir, 'absent')])).toBeUndefined();
  });

  it('takes the smaller of the cgroup limit and the RAM (v1 writes a huge number for no limit)', () => {
    expect(processMemoryLimit([file('small', '536870912')])).toBe(512 * 1024 * 1024);
    expect(processMemoryLimit([file('huge', '9223372036854771712')])).toBe(totalmem());
  });

  it('derives the budget as the limit minus the headroom, unless it is set', () => {
    expect(workerMemoryBudget({ WORKER_MEMORY_BUDGET_BYTES: 123 * 1024 * 1024, WORKER_MEMORY_HEADROOM_BYTES: 0 })).toBe(123 * 1024 * 1024);
    const derived = workerMemoryBudget({ WORKER_MEMORY_BUDGET_BYTES: undefined, WORKER_MEMORY_HEADROOM_BYTES: 512 * 1024 * 1024 });
    expect(derived).toBe(Math.max(64 * 1024 * 1024, processMemoryLimit() - 512 * 1024 * 1024));
  });
});
