/**
 * The order test files start in: the longest first, then vitest's own order.
 *
 * Two files run at a time, so a two-minute file started near the end keeps one worker busy while
 * the other has nothing left. A file's duration is the one vitest recorded in this checkout's
 * cache (node_modules/.vite/vitest, written after every run), else the one in
 * file-durations.json, which a fresh clone (CI) has: the durations of a full run on the 2-core
 * machine, rewritten by `npm run test:durations` after one. A file in neither starts after the
 * ones that are; a stale duration only moves a file to another place.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Milliseconds per file (path from the repository root), from a full run. */
export const FILE_DURATIONS: Readonly<Record<string, number>> = JSON.parse(readFileSync(new URL('./file-durations.json', import.meta.url), 'utf8')) as Record<string, number>;

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root;
    const ms = (spec: TestSpecification): number => {
      const path = relative(root, spec.moduleId);
      return this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`)?.duration ?? FILE_DURATIONS[path] ?? 0;
    };
    // A stable sort: the files with no duration keep vitest's order, after the others.
    return base
      .map((spec, index) => ({ spec, index, ms: ms(spec) }))
      .sort((a, b) => b.ms - a.ms || a.index - b.index)
      .map(({ spec }) => spec);
  }
}
