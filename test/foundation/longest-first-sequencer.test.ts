/**
 * The order `npm test` starts files in (test/support/longest-first-sequencer.ts): by the duration
 * vitest recorded in this checkout, else the one in file-durations.json, longest first; files
 * with neither last, in vitest's order.
 */
import { describe, expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import { FILE_DURATIONS, LongestFirstSequencer } from '../support/longest-first-sequencer.ts';

const ROOT = '/repo';

/** A sequencer over a fake vitest whose cache holds `recorded` (ms by path). */
function sequencer(recorded: Record<string, number>): LongestFirstSequencer {
  const ctx = {
    config: { root: ROOT },
    cache: {
      getFileTestResults: (key: string) => {
        const duration = recorded[key.slice(key.indexOf(':') + 1)];
        return duration === undefined ? undefined : { duration, failed: false };
      },
      // Every file the same size: vitest's own order is then the order given.
      getFileStats: () => ({ size: 1 }),
    },
  };
  return new LongestFirstSequencer(ctx as unknown as Vitest);
}

const spec = (path: string) =>
  ({ moduleId: `${ROOT}/${path}`, project: { name: '', config: { sequence: { groupOrder: 0 }, isolate: true } } }) as unknown as TestSpecification;

const order = async (s: LongestFirstSequencer, paths: string[]) => (await s.sort(paths.map(spec))).map((x) => x.moduleId.slice(ROOT.length + 1));

const byDuration = Object.entries(FILE_DURATIONS).sort(([, a], [, b]) => b - a);
const [longest, second] = [byDuration[0]![0], byDuration[1]![0]];

describe('longest-first sequencer', () => {
  it('lists test files with their durations in whole ms', () => {
    for (const [path, ms] of byDuration) {
      expect(path).toMatch(/^test\/.+\.test\.ts$/);
      expect(Number.isInteger(ms) && ms >= 0).toBe(true);
    }
    // Milliseconds, not seconds: the longest file takes minutes.
    expect(byDuration[0]![1]).toBeGreaterThan(10_000);
  });

  it('starts the longest files of file-durations.json first when vitest recorded none, unknown files last', async () => {
    expect(await order(sequencer({}), ['test/new/a.test.ts', second, 'test/new/b.test.ts', longest])).toEqual([longest, second, 'test/new/a.test.ts', 'test/new/b.test.ts']);
  });

  it('prefers the durations vitest recorded in this checkout', async () => {
    expect(await order(sequencer({ [second]: 1e9, 'test/new/b.test.ts': 5e8 }), ['test/new/a.test.ts', longest, 'test/new/b.test.ts', second])).toEqual([
      second,
      'test/new/b.test.ts',
      longest,
      'test/new/a.test.ts',
    ]);
  });
});
