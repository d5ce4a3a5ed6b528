/**
 * The noisy neighbour: every abuse of a free tenant at once. It runs in a process of its own
 * (abuser-process.ts) so that building and reading its megabytes of JSON never delays the
 * victim's client, which measures: on the internet, the abuser's client is not the victim's.
 */
import { type TimedInit, timedRequest } from './timed-request.ts';

export interface AbuserTarget {
  apiUrl: string;
  headers: Record<string, string>;
  /** A server that accepts connections and never answers. */
  tarpitPort: number;
}

export interface AbuserReport {
  statuses: Record<string, Record<number, number>>;
  /** Its jobs answered 202. */
  jobs: string[];
  endpoints: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every abuse of the free tenant at once, until `stop()`. */
export async function runAbuser(target: AbuserTarget, stop: () => boolean): Promise<AbuserReport> {
  const statuses: Record<string, Record<number, number>> = {};
  const count = (what: string, status: number) => {
    statuses[what] ??= {};
    statuses[what][status] = (statuses[what][status] ?? 0) + 1;
  };
  const jobs: string[] = [];
  const headers = target.headers;
  const timed = (path: string, init?: TimedInit) => timedRequest(target.apiUrl, path, init);
  const accepted = (what: string, r: { status: number; text: string }) => {
    count(what, r.status);
    if (r.status === 202) jobs.push((JSON.parse(r.text) as { id: string }).id);
  };

  const loops: Array<Promise<void>> = [];
  // Each loop goes again at once, or after 200 ms when its plan's rate limit refused it (five
  // requests a second per loop: a flood of refusals from one address is a job for the edge, not
  // for a tenant's plan).
  const forever = (fn: () => Promise<number>) =>
    loops.push(
      (async () => {
        while (!stop()) await sleep((await fn()) === 429 ? 200 : 5);
      })(),
    );
  const counted = (what: string, r: { status: number }) => {
    count(what, r.status);
    return r.status;
  };
  // Set-up requests may take long on a stalled API: they get a minute, and run side by side.
  const setUp = 60_000;

  // Tarpit endpoints, as many as the plan lets it make; `test` on five of them in loops.
  const endpoints: string[] = [];
  const webhooks = (async () => {
    const url = (i: number) => `http://127.0.0.1:${target.tarpitPort}/hook-${i}`;
    for (let i = 0; i < 10 && !stop(); i++) {
      const body = JSON.stringify({ url: url(i), events: ['job.completed', 'job.failed', 'job.cancelled'] });
      const r = await timed('/api/webhooks', { body, headers, timeoutMs: setUp });
      count('create endpoint', r.status);
      if (r.status !== 201) break;
      endpoints.push((JSON.parse(r.text) as { id: string }).id);
    }
    for (const id of endpoints.slice(0, 5)) {
      forever(async () => counted('webhook test', await timed(`/api/webhooks/${id}/test`, { method: 'POST', headers, timeoutMs: 15_000 })));
    }
  })();

  // A stored lattice with a giant obstacle list (115k duplicates of a few cells), or the largest
  // the API accepts, then tiny jobs on it in loops.
  const giantList = (async () => {
    const blocked = Array.from({ length: 115_000 }, (_, i) => [i % 10, (i >> 3) % 10, (i >> 6) % 10]);
    let stored = await timed('/api/lattices', { body: JSON.stringify({ shape: [10, 10, 10], obstacles: { blocked } }), headers, timeoutMs: setUp });
    count('store giant list', stored.status);
    if (stored.status !== 201) {
      const half = Array.from({ length: 1000 }, (_, i) => [Math.floor(i / 100), Math.floor(i / 10) % 10, i % 10]).filter((_, i) => i % 2 === 0);
      stored = await timed('/api/lattices', { body: JSON.stringify({ shape: [10, 10, 10], obstacles: { blocked: half } }), headers, timeoutMs: setUp });
      count('store largest list', stored.status);
    }
    if (stored.status !== 201) return;
    const tiny = JSON.stringify({ type: 'components', lattice_id: (JSON.parse(stored.text) as { id: string }).id });
    for (let i = 0; i < 4; i++) {
      forever(async () => {
        const r = await timed('/api/jobs', { body: tiny, headers });
        accepted('job on giant list', r);
        return r.status;
      });
    }
  })();

  // The plan's largest diffusion (the longest run, the most sources), as many as it runs at once.
  const maximal = (async () => {
    const sources = Array.from({ length: 10_000 }, (_, i) => ({ cell: [i % 10, Math.floor(i / 10) % 10, Math.floor(i / 100) % 10], value: 1 }));
    const body = JSON.stringify({ type: 'diffusion', lattice: { dimensions: 3, size: 10 }, params: { steps: 1_000_000, alpha: 0.1, sources } });
    await Promise.all([0, 1].map(async () => accepted('maximal diffusion', await timed('/api/jobs', { body, headers, timeoutMs: setUp }))));
  })();

  // Pages of the most items, and about 1 MB of JSON sent without credentials, in loops.
  for (let i = 0; i < 2; i++) forever(async () => counted('list page', await timed('/api/jobs?limit=100', { headers })));
  const cells = Array.from({ length: 70_000 }, (_, i) => [i % 10, (i >> 4) % 10, (i >> 8) % 10]);
  const oversized = JSON.stringify({ type: 'components', lattice: { shape: [10, 10, 10], obstacles: { blocked: cells } } });
  for (let i = 0; i < 3; i++) forever(async () => counted('oversized body', await timed('/api/jobs', { body: oversized })));

  await Promise.all([webhooks, giantList, maximal]);
  await Promise.all(loops);
  return { statuses, jobs, endpoints: endpoints.length };
}

