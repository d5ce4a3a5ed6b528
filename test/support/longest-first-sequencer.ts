/**
 * The order test files start in: the slowest known files first, then vitest's own order.
 *
 * Two files run at a time, so a two-minute file started near the end keeps one worker busy while
 * the other has nothing left. vitest orders by the durations of the previous run, which a fresh
 * clone (CI) does not have, and otherwise by file size, which says little about time. SLOW_FILES
 * lists the files that took longest in a full run on the 2-core machine (seconds); a file missing
 * from it, or listed with a stale time, only starts in another place.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const SLOW_FILES: Readonly<Record<string, number>> = {
  'test/faults/faults-under-load.test.ts': 118,
  'test/cli/submit-and-wait.test.ts': 72,
  'test/cli/login-and-credentials.test.ts': 69,
  'test/readme/readme-steps.test.ts': 43,
  'test/identity/rate-limits.test.ts': 40,
};

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root;
    const seconds = (spec: TestSpecification) => SLOW_FILES[spec.moduleId.slice(root.length + 1)] ?? 0;
    // A stable sort: the files not listed keep vitest's order, after the listed ones.
    return base.map((spec, index) => ({ spec, index, s: seconds(spec) })).sort((a, b) => b.s - a.s || a.index - b.index).map(({ spec }) => spec);
  }
}
