/**
 * The `catalytic` executable compiled once per test run into plain JavaScript, so the tests that
 * run it dozens of times start `node` on that instead of registering tsx and loading every module
 * through it in each process (about a second of CPU a run on the CI machine, docs/testing.md).
 *
 * esbuild is the compiler tsx itself uses, with the same tsconfig; packages stay imports of
 * node_modules. Each module's `import.meta.url` stays its source file's URL, so the files it reads
 * beside itself (package.json, mail templates, WebAssembly, the kernel thread) are the same ones.
 * The files lie under node_modules/.cache so that those imports resolve as from the repository.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = join(ROOT, 'launcher/main.ts');

/** Replaces `import.meta.url` in every source module with the URL of its own file. */
const sourceFileUrls: Plugin = {
  name: 'source-file-urls',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?[jt]s$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      return {
        contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href)),
        loader: /\.[cm]?ts$/.test(path) ? 'ts' : 'js',
      };
    });
  },
};

/** Builds the bundle; resolves with its entry file and a function that deletes it. */
export async function bundleCli(): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = join(ROOT, 'node_modules/.cache/catalytic-test');
  await mkdir(dir, { recursive: true });
  // A directory per run: two runs in the same tree do not overwrite each other's.
  const outdir = join(dir, `run-${process.pid}`);
  await build({
    entryPoints: { catalytic: ENTRY },
    outdir,
    outExtension: { '.js': '.mjs' },
    // The server roles, which the launcher imports only when one runs, go to chunks of their own
    // with the packages they import: a client command loads none of them.
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
    plugins: [sourceFileUrls],
  });
  return { file: join(outdir, 'catalytic.mjs'), remove: () => rm(outdir, { recursive: true, force: true }) };
}
