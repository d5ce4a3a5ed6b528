/**
 * Where the kernel threads' entry file lies. A module of its own so that a compiled build of the
 * worker (the tests' bundle, test/support/catalytic-bundle.ts) can point it at its compiled
 * thread instead of the source one, which registers the TypeScript loader in every thread.
 */
import { fileURLToPath } from 'node:url';

/**
 * The thread entry: a plain .mjs file that registers the TypeScript loader in the thread, unless
 * `KERNEL_THREAD_FILE` names another. The test run sets it to the compiled thread of its bundle,
 * so the pools tests start inside vitest load no module through tsx (docs/testing.md › Keeping
 * the suite fast).
 */
export const THREAD_FILE = process.env.KERNEL_THREAD_FILE || fileURLToPath(new URL('./thread.mjs', import.meta.url));
