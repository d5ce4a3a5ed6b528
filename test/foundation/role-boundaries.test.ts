/**
 * The dependency rule between the top-level folders is a lint rule (eslint-role-boundaries.js,
 * wired in eslint.config.js): these lint snippets placed in each folder with the repository's own
 * configuration, and expect a crossing to be an error and an allowed import to pass. That the
 * repository itself keeps the rule is `npm run lint`'s job.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RULE = 'catalytic/role-boundaries';

// The repository's configuration; type information is not needed for import paths, and its
// TypeScript program would take most of the time.
const eslint = new ESLint({ cwd: ROOT, overrideConfig: [tseslint.configs.disableTypeChecked] });

/** The boundary errors of `code` as if it were the file `path` of the repository. */
async function crossings(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  const fatal = result?.messages.filter((m) => m.fatal) ?? [];
  expect(fatal, 'the snippet parses').toEqual([]);
  return (result?.messages ?? []).filter((m) => m.ruleId === RULE && m.severity === 2).map((m) => m.message);
}

describe('the dependency rule between folders', () => {
  it.each([
    ['shared/probe.ts', "import { MAINTENANCE_QUEUE } from '../scheduler/index.ts';", 'shared/ may not import scheduler/'],
    ['shared/queues/probe.ts', "import { reconcile } from '../../worker/index.ts';", 'shared/ may not import worker/'],
    ['shared/probe.ts', "export { runRole } from '../launcher/roles.ts';", 'shared/ may not import launcher/'],
    ['scheduler/probe.ts', "import { workerServices } from '../worker/index.ts';", 'scheduler/ may not import worker/'],
    ['worker/probe.ts', "export const server = await import('../api/server.ts');", 'worker/ may not import api/'],
    ['api/probe.ts', "export * from '../scheduler/index.ts';", 'api/ may not import scheduler/'],
    ['client/probe.ts', "import type { JobSchema } from '../api/jobs/schemas.ts';\nexport type J = typeof JobSchema;", 'client/ may not import api/'],
    ['cli/commands/probe.ts', "import { takeBackup } from '../../scheduler/index.ts';", 'cli/ may not import scheduler/'],
    ['cli/probe.ts', "import { runRole } from '../launcher/roles.ts';", 'cli/ may not import launcher/'],
    ['migrations/probe.ts', "import { createApiDeps } from '../api/deps.ts';", 'migrations/ may not import api/'],
  ])('%s: %s is an error', async (path, code, message) => {
    const errors = await crossings(path, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
  });

  it.each([
    ['launcher/probe.ts', "import '../api/server.ts';\nimport '../worker/index.ts';\nimport '../scheduler/index.ts';\nimport '../cli/commands/index.ts';"],
    ['cli/commands/probe.ts', "import '../../client/index.ts';\nimport '../../shared/config.ts';\nimport './format.ts';"],
    ['client/probe.ts', "import '../shared/wire/jobs.ts';\nimport './http.ts';\nimport 'zod';"],
    ['api/jobs/probe.ts', "import '../../shared/wire/jobs.ts';\nimport '../routing.ts';"],
    ['shared/probe.ts', "import '../migrations/index.ts';\nimport './wire/jobs.ts';"],
    ['test/probe.ts', "import '../api/server.ts';\nimport '../worker/index.ts';"],
  ])('%s may import what it does', async (path, code) => {
    expect(await crossings(path, code)).toEqual([]);
  });
});
