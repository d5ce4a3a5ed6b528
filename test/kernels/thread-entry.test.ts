/**
 * The kernel threads' entry file. The test run points the pools test files start at its bundle's
 * compiled thread (KERNEL_THREAD_FILE, set in global setup), so that their threads load no module
 * through tsx; users run the source entry, worker/kernels/thread.mjs, which registers tsx in each
 * thread. Both entries must load the kernels and give the same answers.
 */
import { afterEach, expect, inject, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
});

/** Loads the pool afresh, so that thread-file.ts reads the environment as it is now. */
async function freshPool() {
  vi.resetModules();
  const { KernelPool } = await import('../../worker/kernels/kernel-pool.ts');
  const { THREAD_FILE } = await import('../../worker/kernels/thread-file.ts');
  // Every run split across both threads.
  const pool = new KernelPool({ threads: 2, parallelMinCells: { shortest_path: 1, components: 1, diffusion: 1 } });
  return { pool, threadFile: THREAD_FILE };
}

const PLANE = { shape: [160, 120], obstacles: { density: 0.25, seed: 11 } };

/** A kernel's answer without its memory figure, which differs between the two builds. */
function answer(result: object): object {
  return Object.fromEntries(Object.entries(result).filter(([key]) => key !== 'memory_bytes'));
}

/** Answers of one pool to a few runs that each use both threads. */
async function answers(pool: Awaited<ReturnType<typeof freshPool>>['pool']) {
  await pool.start();
  try {
    return {
      components: answer(await pool.run('components', PLANE, {})),
      path: answer(await pool.run('shortest_path', PLANE, { start: [1, 1], end: [150, 110] })),
    };
  } finally {
    await pool.close();
  }
}

it('the test run loads the compiled thread, and it answers as the source thread does', { timeout: 60_000 }, async () => {
  const compiled = await freshPool();
  expect(compiled.threadFile).toBe(inject('kernelThreadBundle'));
  const fromBundle = await answers(compiled.pool);

  vi.stubEnv('KERNEL_THREAD_FILE', '');
  const source = await freshPool();
  expect(source.threadFile).toMatch(/worker\/kernels\/thread\.mjs$/);
  const fromSource = await answers(source.pool);

  expect(fromSource).toEqual(fromBundle);
  // Not empty answers: the plane has many components, and the path is found.
  expect(fromBundle.components).toMatchObject({ count: expect.any(Number) });
  expect(fromBundle.path).toMatchObject({ length: expect.any(Number) });
});
