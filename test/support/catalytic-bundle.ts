/**
 * The `catalytic` executable compiled once per test run into plain JavaScript, so the tests that
 * start it (CLI commands dozens of times, server roles hundreds of times in a run) start `node` on
 * that instead of registering tsx and loading every module through it in each process: 1–3 s of
 * CPU less per start on the CI machine (docs/testing.md › Keeping the suite fast).
 *
 * esbuild is the compiler tsx itself uses, with the same tsconfig; packages stay imports of
 * node_modules. Each module's `import.meta.url` stays its source file's URL, so the files it reads
 * beside itself (package.json, mail templates, WebAssembly) are the same ones. The kernel threads'
 * entry is the one exception: the source entry (worker/kernels/thread.mjs) registers tsx in each
 * thread, so the bundle has a compiled thread entry of its own and points thread-file.ts at it.
 * The files lie under node_modules/.cache so that their package imports resolve as from the
 * repository.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = join(ROOT, 'launcher/main.ts');
const THREAD_ENTRY = join(ROOT, 'worker/kernels/kernel-thread.ts');
/** The module that says where the kernel threads' entry file is. */
const THREAD_FILE_MODULE = join(ROOT, 'worker/kernels/thread-file.ts');

/**
 * Replaces `import.meta.url` in every source module with the URL of its own file, and the kernel
 * thread's entry file with the compiled one (`threadFile`).
 */
function sourceFileUrls(threadFile: string): Plugin {
  return {
    name: 'source-file-urls',
    setup(b) {
      b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async ({ path }) => {
        if (path === THREAD_FILE_MODULE) {
          return { contents: `export const THREAD_FILE = ${JSON.stringify(threadFile)};`, loader: 'js' };
        }
        const source = await readFile(path, 'utf8');
        return {
          contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href)),
          loader: /\.[cm]?ts$/.test(path) ? 'ts' : 'js',
        };
      });
    },
  };
}

/**
 * Builds the bundle; resolves with its entry file, its kernel threads' entry file and a function
 * that deletes both.
 */
export async function buildCatalyticBundle(): Promise<{ file: string; threadFile: string; remove: () => Promise<void> }> {
  const dir = join(ROOT, 'node_modules/.cache/catalytic-test');
  await mkdir(dir, { recursive: true });
  // A directory per run: two runs in the same tree do not overwrite each other's.
  const outdir = join(dir, `run-${process.pid}`);
  const threadFile = join(outdir, 'kernel-thread.mjs');
  await build({
    entryPoints: { catalytic: ENTRY, 'kernel-thread': THREAD_ENTRY },
    outdir,
    outExtension: { '.js': '.mjs' },
    // The server roles, which the launcher imports only when one runs, go to chunks of their own
    // with the packages they import: a client command loads none of them. The kernel thread
    // shares its chunks with the worker.
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
    plugins: [sourceFileUrls(threadFile)],
  });
  return { file: join(outdir, 'catalytic.mjs'), threadFile, remove: () => rm(outdir, { recursive: true, force: true }) };
}
