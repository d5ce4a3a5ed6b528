/**
 * The soak: the mixed profile for minutes on end while the API's RSS (/proc) and V8 heap in use
 * (its /metrics) are sampled. Growth is the least-squares slope after a warm-up, in MB per
 * minute; a leak shows as a slope that stays positive, where a healthy heap saws up and down
 * around a level.
 */
import { runScenario, type ScenarioResult } from './measure.ts';
import type { ProfileData } from './profiles.ts';
import { heapUsedBytes, rssBytes, type StackProcess } from './stack.ts';

export interface SoakOptions {
  /** The API processes; memory is sampled on the first. */
  apis: readonly StackProcess[];
  data: ProfileData;
  minutes: number;
  connections: number;
  sampleEveryMs: number;
}

export interface MemorySample {
  t_s: number;
  rss_mb: number | null;
  heap_used_mb: number | null;
}

/** Growth limits below which the soak counts as showing no memory growth. */
export const GROWTH_LIMITS = { heap_mb_per_min: 1, rss_mb_per_min: 2 } as const;

export interface SoakResult {
  minutes: number;
  connections: number;
  load: ScenarioResult;
  samples: MemorySample[];
  /** Samples before this time are warm-up, left out of the slopes. */
  warmup_s: number;
  heap_slope_mb_per_min: number | null;
  rss_slope_mb_per_min: number | null;
  heap_mb: { first: number | null; last: number | null; max: number | null };
  rss_mb: { first: number | null; last: number | null; max: number | null };
  limits: typeof GROWTH_LIMITS;
  /** True when both slopes are under the limits; null when the soak is too short to say. */
  no_growth: boolean | null;
}

const MB = 1024 * 1024;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Least-squares slope of y over x. */
export function slope(points: Array<[number, number]>): number | null {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  if (sxx === 0) return null;
  return points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
}

export async function soak(options: SoakOptions): Promise<SoakResult> {
  const { apis, data, minutes, connections, sampleEveryMs } = options;
  const api = apis[0];
  if (!api) throw new Error('soak needs an API process');
  const started = performance.now();
  const samples: MemorySample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [heap, rss] = [await heapUsedBytes(api), rssBytes(api.pid)];
      samples.push({
        t_s: round((performance.now() - started) / 1000, 1),
        rss_mb: rss === undefined ? null : round(rss / MB, 1),
        heap_used_mb: heap === undefined ? null : round(heap / MB, 1),
      });
      await new Promise((r) => setTimeout(r, sampleEveryMs));
    }
  })();
  const load = await runScenario({ targets: apis, profile: 'mixed', connections, durationS: Math.round(minutes * 60), data });
  sampling = false;
  await sampler;

  // The first fifth (at most two minutes) warms caches, pools and JIT.
  const warmupS = Math.min(120, (minutes * 60) / 5);
  const steady = samples.filter((s) => s.t_s >= warmupS);
  const series = (pick: (s: MemorySample) => number | null) =>
    steady.flatMap((s): Array<[number, number]> => {
      const y = pick(s);
      return y === null ? [] : [[s.t_s / 60, y]];
    });
  const heapSlope = slope(series((s) => s.heap_used_mb));
  const rssSlope = slope(series((s) => s.rss_mb));
  const stats = (pick: (s: MemorySample) => number | null) => {
    const values = samples.map(pick).filter((v): v is number => v !== null);
    return { first: values[0] ?? null, last: values[values.length - 1] ?? null, max: values.length ? Math.max(...values) : null };
  };
  // Under five minutes the sawtooth of the heap drowns any trend.
  const conclusive = minutes >= 5 && heapSlope !== null && rssSlope !== null;
  return {
    minutes,
    connections,
    load,
    samples,
    warmup_s: round(warmupS, 1),
    heap_slope_mb_per_min: heapSlope === null ? null : round(heapSlope, 3),
    rss_slope_mb_per_min: rssSlope === null ? null : round(rssSlope, 3),
    heap_mb: stats((s) => s.heap_used_mb),
    rss_mb: stats((s) => s.rss_mb),
    limits: GROWTH_LIMITS,
    no_growth: conclusive ? (heapSlope as number) <= GROWTH_LIMITS.heap_mb_per_min && (rssSlope as number) <= GROWTH_LIMITS.rss_mb_per_min : null,
  };
}
