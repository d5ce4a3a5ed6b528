/**
 * The lattice benchmark's engine child (bench/lattice/engine-child.ts), as `npm run bench:lattice`
 * starts it: its `alternate` mode, which measures 1 and 2 threads taking turns in one pool for the
 * scaling rows, and the kernel thread its pools load (`useKernelThread`: the compiled one, a
 * missing file, or the source entry through tsx).
 */
import { afterEach, expect, inject, it } from 'vitest';
import { engine, type Measurement, useKernelThread } from '../../bench/lattice/children.ts';
import type { EngineJob } from '../../bench/lattice/engine-child.ts';

afterEach(() => {
  useKernelThread(undefined);
});

/** Small enough for seconds, split in two slabs whenever 2 threads are asked for. */
const JOB: EngineJob = {
  type: 'components',
  spec: { shape: [40, 40, 40], boundary: 'open', obstacles: { density: 0.3, seed: 5 } },
  params: {},
  options: {},
  repeats: 3,
  poolThreads: 2,
  warmup: null,
  warmupRuns: 1,
};

/** A component count's measurement without its timings. */
function answer(m: Measurement): unknown {
  return { count: m['count'], largest: m['largest'], spans_axis0: m['spans_axis0'] };
}

it('alternate measures each thread count in its own runs, one per round, with the same answer', { timeout: 120_000 }, () => {
  useKernelThread(inject('kernelThreadBundle'));
  const out = engine({ ...JOB, alternate: [1, 2] }, 'alternate');
  expect(out).not.toHaveProperty('error');
  const byThreads = out['by_threads'] as Record<string, Measurement>;
  expect(Object.keys(byThreads).sort()).toEqual(['1', '2']);
  for (const threads of [1, 2]) {
    const m = byThreads[threads]!;
    // The run really used that many threads, and every round added one run of it.
    expect(m['threads']).toBe(threads);
    expect(m['e2e_ms_runs']).toHaveLength(JOB.repeats);
    expect(m['e2e_ms']).toBeGreaterThan(0);
    expect(m['cpu_ms']).toBeGreaterThan(0);
  }
  expect(byThreads[1]!['count']).toBeGreaterThan(1);
  expect(answer(byThreads[2]!)).toEqual(answer(byThreads[1]!));
});

it('the engine child loads the kernel thread it is given, and the compiled one answers as the source one', { timeout: 120_000 }, () => {
  const job = { ...JOB, options: { threads: 2 }, repeats: 1 };
  useKernelThread('/nonexistent/kernel-thread.mjs');
  expect(engine(job, 'missing thread')).toHaveProperty('error');

  useKernelThread(inject('kernelThreadBundle'));
  const compiled = engine(job, 'compiled thread');
  useKernelThread(undefined);
  const source = engine(job, 'source thread');
  expect(compiled).not.toHaveProperty('error');
  expect(source).not.toHaveProperty('error');
  expect(compiled['threads']).toBe(2);
  expect(answer(compiled)).toEqual(answer(source));
});
