/**
 * Answers through the control block (job-control.ts, kernel-thread.ts, kernel-pool.ts): a thread
 * leaves a small plain-JSON answer in its task's slot and wakes the caller, who takes it before
 * piscina's message arrives; anything else (typed arrays, long errors) still comes back through
 * piscina, and both give the same results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobControl } from '../../worker/kernels/job-control.ts';
import { KernelPool } from '../../worker/kernels/kernel-pool.ts';
import { plainJson } from '../../worker/kernels/kernel-thread.ts';

describe('JobControl answer slots', () => {
  it('hand a posted text to the caller, wake its waiter, and empty for the next round', async () => {
    const control = JobControl.create(2);
    const thread = JobControl.attach(control.buffers);
    const base = control.clearAnswers(2);
    const woken = control.answersAfter(base);
    expect(thread.postAnswer(1, '{"ok":true,"value":"é ✓"}')).toBe(true);
    expect(await woken).toBe(base + 1);
    expect(control.answer(1)).toBe('{"ok":true,"value":"é ✓"}');
    expect(control.answer(0)).toBeNull();
    control.clearAnswers(2);
    expect(control.answer(1)).toBeNull();
  });

  it('refuse a text that does not fit and a slot the run does not have, leaving nothing', () => {
    const control = JobControl.create(1);
    const base = control.clearAnswers(1);
    expect(control.postAnswer(0, 'x'.repeat(600))).toBe(false);
    expect(control.postAnswer(1, '{}')).toBe(false);
    expect(control.postAnswer(0, '')).toBe(false);
    expect(control.answer(0)).toBeNull();
    expect(control.clearAnswers(1)).toBe(base);
  });

  it('count in the bytes the run reports', () => {
    expect(JobControl.create(2).bytes).toBeGreaterThanOrEqual(2 * 1024);
  });
});

describe('plainJson', () => {
  it('accepts what JSON gives back unchanged, and nothing else', () => {
    expect(plainJson({ ok: true, value: { count: 3, histogram: [1, 0, 2], spans_axis0: false, name: 'x' }, n: null })).toBe(true);
    for (const value of [
      { path: Uint32Array.of(1, 2) },
      { x: Number.NaN },
      { x: Number.POSITIVE_INFINITY },
      { x: -0 },
      { x: undefined },
      Object.assign(new Array<number>(3), { 0: 1, 2: 3 }),
      new Map(),
      { when: new Date(0) },
      { big: 1n },
      Array.from({ length: 600 }, () => 1),
    ]) {
      expect(plainJson(value), String(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? 'bigint' : v)))).toBe(false);
    }
  });
});

describe('a pool run', () => {
  // No run on the caller's thread: every answer comes from a kernel thread.
  const pool = new KernelPool({ threads: 2, parallelMinCells: { components: 0 }, minRowsPerSlab: 2, inlineMaxCells: 0 });
  beforeAll(() => pool.start());
  afterAll(() => pool.close());
  const spec = { shape: [24, 20, 18], obstacles: { density: 0.3, seed: 5 } };

  it('takes a components answer from the slots of both threads', async () => {
    const run = pool.submit('components', spec, {}, { threads: 2 });
    const { result, stats } = await run.outcome;
    expect(stats.threads).toBe(2);
    // The thread that merged answered the result, the other null; both through their slots.
    const answers = [run.control.answer(0), run.control.answer(1)].map((text) => JSON.parse(text ?? 'null') as { ok: boolean; value: unknown } | null);
    expect(answers.every((answer) => answer?.ok === true)).toBe(true);
    const merged = answers.find((answer) => answer!.value !== null)!.value as { count: number };
    expect(merged.count).toBe(result.count);
    // One thread, the same answer.
    expect((await pool.run('components', spec, {}, { threads: 1 })).count).toBe(result.count);
  });

  it('takes a path (a typed array) through piscina, its slot left empty', async () => {
    const run = pool.submit('shortest_path', { shape: [40, 40] }, { start: [0, 0], end: [39, 39] }, { strategy: 'bfs', threads: 1 });
    const { result } = await run.outcome;
    expect(run.inline).toBe(false);
    expect(result.length).toBe(78);
    expect(run.control.answer(0)).toBeNull();
  });

  it('keeps the pool serving runs back to back, slot answers and piscina answers mixed', async () => {
    const counts = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const [components, path] = await Promise.all([
        pool.run('components', spec, {}, { threads: i % 2 === 0 ? 2 : 1 }),
        i % 2 === 0 ? Promise.resolve(null) : pool.run('shortest_path', { shape: [30, 30] }, { start: [0, 0], end: [29, 29] }, { strategy: 'bfs', threads: 1 }),
      ]);
      counts.add(components.count);
      if (path !== null) expect(path.length).toBe(58);
    }
    expect(counts.size).toBe(1);
  });
});
