/** The fair order itself, on in-memory tenants: weights, empty and capped tenants, newcomers. */
import { describe, expect, it } from 'vitest';
import { DeficitRoundRobin, type TenantSource, WAIT } from '../../worker/deficit-round-robin.ts';

/** Tenants with a backlog each; `capped` ones have work but refuse to give any. */
function tenants(backlogs: Record<string, number>, weights: Record<string, number>, capped = new Set<string>()) {
  const empties: string[] = [];
  const source: TenantSource<string> = {
    dueTenants: async () => Object.keys(backlogs).filter((t) => (backlogs[t] ?? 0) > 0).sort(),
    weights: async (ids) => new Map(ids.map((id) => [id, weights[id] ?? 1])),
    fetch: async (id) => {
      if (capped.has(id) || !backlogs[id]) return undefined;
      backlogs[id]--;
      return id;
    },
    empty: async (id) => {
      empties.push(id);
    },
  };
  return { source, backlogs, empties };
}

async function take(drr: DeficitRoundRobin<string>, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const next = await drr.next();
    if (next === undefined) break;
    out.push(next);
  }
  return out;
}

describe('weighted deficit round robin', () => {
  it('serves busy tenants in proportion to their weights', async () => {
    const { source } = tenants({ a: 1000, b: 1000, c: 1000, d: 1000 }, { a: 1, b: 2, c: 4, d: 8 });
    const served = await take(new DeficitRoundRobin(source), 150);
    const count = (t: string) => served.filter((s) => s === t).length;
    expect([count('a'), count('b'), count('c'), count('d')]).toEqual([10, 20, 40, 80]);
  });

  it('alternates between equal tenants whatever their backlogs, and takes a newcomer within a round', async () => {
    const backlogs = { a: 10_000 } as Record<string, number>;
    const { source } = tenants(backlogs, {});
    const drr = new DeficitRoundRobin(source);
    expect(await take(drr, 5)).toEqual(['a', 'a', 'a', 'a', 'a']);
    backlogs['b'] = 3;
    const next = await take(drr, 8);
    // b starts at most one round (one job of a) after it appears, then they alternate.
    expect(next.indexOf('b')).toBeLessThanOrEqual(1);
    expect(next.filter((t) => t === 'b')).toHaveLength(3);
    expect(next.slice(next.indexOf('b'), next.indexOf('b') + 5)).toEqual(['b', 'a', 'b', 'a', 'b']);
  });

  it('skips a tenant at its cap without stalling the others, and reports empty tenants', async () => {
    const capped = new Set(['b']);
    const { source, empties } = tenants({ a: 3, b: 5 }, { a: 1, b: 8 }, capped);
    const drr = new DeficitRoundRobin(source);
    expect(await take(drr, 10)).toEqual(['a', 'a', 'a']);
    expect(await drr.next()).toBeUndefined();
    expect(empties).toContain('b');
    capped.clear();
    expect(await take(drr, 10)).toEqual(['b', 'b', 'b', 'b', 'b']);
    expect(await drr.next()).toBeUndefined();
  });
});

describe('weighted deficit round robin, tenants waiting for memory', () => {
  it('skips a waiting tenant without dropping it, serves the others, and gives it no burst later', async () => {
    const backlogs: Record<string, number> = { a: 100, b: 100 };
    let aWaits = true;
    const empties: string[] = [];
    const source: TenantSource<string> = {
      dueTenants: async () => Object.keys(backlogs).filter((t) => (backlogs[t] ?? 0) > 0).sort(),
      weights: async (ids) => new Map(ids.map((id) => [id, 1])),
      fetch: async (id) => {
        if (id === 'a' && aWaits) return WAIT;
        backlogs[id]!--;
        return id;
      },
      empty: async (id) => {
        empties.push(id);
      },
    };
    const drr = new DeficitRoundRobin(source);
    expect(await take(drr, 6)).toEqual(['b', 'b', 'b', 'b', 'b', 'b']);
    // Waiting is not empty: the tenant was never settled out of the due set.
    expect(empties).toEqual([]);
    aWaits = false;
    const next = await take(drr, 6);
    expect(next.filter((t) => t === 'a')).toHaveLength(3);
    expect(next.slice(0, 2).sort()).toEqual(['a', 'b']);
  });

  it('answers nothing when every tenant waits, so the fetch loop sleeps', async () => {
    const source: TenantSource<string> = {
      dueTenants: async () => ['a', 'b'],
      weights: async (ids) => new Map(ids.map((id) => [id, 1])),
      fetch: async () => WAIT,
      empty: async () => {
        throw new Error('a waiting tenant is not empty');
      },
    };
    expect(await new DeficitRoundRobin(source).next()).toBeUndefined();
  });
});

describe('weighted deficit round robin, several fetches in flight', () => {
  /** Tenants whose fetches answer after a random few turns of the event loop, with the fetches in flight counted. */
  function slowTenants(backlogs: Record<string, number>, weights: Record<string, number>) {
    const stats = { inFlight: 0, most: 0, rounds: 0 };
    const source: TenantSource<string> = {
      dueTenants: async () => {
        stats.rounds++;
        await new Promise((r) => setImmediate(r));
        return Object.keys(backlogs).filter((t) => (backlogs[t] ?? 0) > 0).sort();
      },
      weights: async (ids) => new Map(ids.map((id) => [id, weights[id] ?? 1])),
      fetch: async (id) => {
        stats.most = Math.max(stats.most, ++stats.inFlight);
        for (let turns = Math.floor(Math.random() * 4); turns >= 0; turns--) await new Promise((r) => setImmediate(r));
        stats.inFlight--;
        if (!backlogs[id]) return undefined;
        backlogs[id]--;
        return id;
      },
      empty: async () => undefined,
    };
    return { source, stats };
  }

  /** `lanes` callers asking at once, until `count` jobs came back (or a round found nothing). */
  async function takeConcurrently(drr: DeficitRoundRobin<string>, lanes: number, count: number): Promise<string[]> {
    const out: string[] = [];
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (out.length < count) {
          const next = await drr.next();
          if (next === undefined) return;
          out.push(next);
        }
      }),
    );
    return out;
  }

  it('four callers at once fetch in proportion to the weights, as one caller does, with their fetches overlapping', async () => {
    for (let trial = 0; trial < 20; trial++) {
      const { source, stats } = slowTenants({ a: 1000, b: 1000, c: 1000, d: 1000 }, { a: 1, b: 2, c: 4, d: 8 });
      const served = await takeConcurrently(new DeficitRoundRobin(source), 4, 600);
      // Up to three more than asked for: the lanes' fetches in flight when the count was reached.
      const window = served.slice(0, 600);
      const count = (t: string) => window.filter((s) => s === t).length;
      // 40 rounds of 15; callers that overlap may shift a round's last fetches by at most one each.
      for (const [tenant, weight] of [['a', 1], ['b', 2], ['c', 4], ['d', 8]] as const) {
        expect(Math.abs(count(tenant) - 40 * weight), `${tenant}: ${count(tenant)}`).toBeLessThanOrEqual(4);
      }
      expect(stats.most).toBeGreaterThan(1);
      // A round is read once, not once per caller.
      expect(stats.rounds).toBeLessThanOrEqual(45);
    }
  });

  it('a flood delays a newcomer by at most a round of fetches in flight', async () => {
    const backlogs: Record<string, number> = { a: 10_000 };
    const { source } = slowTenants(backlogs, {});
    const drr = new DeficitRoundRobin(source);
    await takeConcurrently(drr, 4, 20);
    backlogs['b'] = 5;
    const next = await takeConcurrently(drr, 4, 12);
    const firstB = next.indexOf('b');
    // The four fetches in flight when b appeared, then b within a round.
    expect(firstB).toBeGreaterThanOrEqual(0);
    expect(firstB).toBeLessThanOrEqual(5);
    expect(next.filter((t) => t === 'b')).toHaveLength(5);
  });
});
