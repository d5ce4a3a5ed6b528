/**
 * The request mixes the benchmark drives, spread evenly over the tenants:
 * - `submit-heavy`: POST /api/jobs, tiny shortest_path jobs on inline 8×8 lattices;
 * - `poll-heavy`: GET /api/jobs/:id on jobs submitted before the run (each tenant its own);
 * - `list-heavy`: GET /api/jobs?limit=10, the newest page of each tenant's jobs;
 * - `list-filtered` (only when named in --profiles): GET /api/jobs?limit=10&status=completed, a
 *   filtered page (a prepared statement per filter combination, list-statements.ts);
 * - `mixed`: per connection, three polls, one submission and one list (GET /api/jobs?limit=10);
 * - `ceiling`: GET /ping on the bare Koa server;
 * - `floor`: GET /floor/jobs/:id on the bare Koa server (one Redis INCR and one primary-key
 *   SELECT, the least a rate-limited read of PostgreSQL must do), on the same jobs as poll-heavy.
 */
import type autocannon from 'autocannon';
import type { BenchTenant } from './stack.ts';

export const PROFILES = ['submit-heavy', 'poll-heavy', 'list-heavy', 'mixed'] as const;
/** Profiles run only when `--profiles` names them. */
export const EXTRA_PROFILES = ['list-filtered'] as const;
export type Profile = (typeof PROFILES)[number] | (typeof EXTRA_PROFILES)[number] | 'ceiling' | 'floor';
/** Profiles served by the bare Koa process rather than the API. */
export const YARDSTICKS: readonly Profile[] = ['ceiling', 'floor'];

/** A job small enough that the API, not the kernel, is what is measured. */
export const TINY_JOB = JSON.stringify({
  type: 'shortest_path',
  lattice: { shape: [8, 8], obstacles: { density: 0.1, seed: 1 } },
  params: { start: [0, 0], end: [7, 7] },
});

export interface ProfileData {
  tenants: BenchTenant[];
  /** Job ids per tenant (index matches `tenants`), for polling. */
  jobs: string[][];
}

/** Round-robin pickers shared by every connection. */
function rotation(data: ProfileData) {
  let tenantTurn = 0;
  let jobTurn = 0;
  return {
    tenant(): number {
      tenantTurn = (tenantTurn + 1) % data.tenants.length;
      return tenantTurn;
    },
    job(tenant: number): string {
      const ids = data.jobs[tenant] as string[];
      jobTurn = (jobTurn + 1) % ids.length;
      return ids[jobTurn] as string;
    },
  };
}

/**
 * What each request of a profile's sequence is (same order as `requestsFor`), so a run can
 * report latency per kind of request; autocannon cycles through the sequence on each connection.
 */
export function routesOf(profile: Profile): readonly string[] {
  switch (profile) {
    case 'ceiling':
      return ['ping'];
    case 'floor':
      return ['floor'];
    case 'submit-heavy':
      return ['submit'];
    case 'poll-heavy':
      return ['poll'];
    case 'list-heavy':
      return ['list'];
    case 'list-filtered':
      return ['list-filtered'];
    case 'mixed':
      return ['poll', 'submit', 'poll', 'list', 'poll'];
  }
}

export function requestsFor(profile: Profile, data: ProfileData): autocannon.Request[] {
  if (profile === 'ceiling') return [{ method: 'GET', path: '/ping' }];
  const turn = rotation(data);
  if (profile === 'floor') {
    return [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/floor/jobs/${turn.job(turn.tenant())}` }) }];
  }
  const auth = (tenant: number) => (data.tenants[tenant] as BenchTenant).authorization;
  const submit: autocannon.Request = {
    method: 'POST',
    path: '/api/jobs',
    setupRequest: (req) => ({ ...req, headers: { 'content-type': 'application/json', authorization: auth(turn.tenant()) }, body: TINY_JOB }),
  };
  const poll: autocannon.Request = {
    method: 'GET',
    setupRequest: (req) => {
      const tenant = turn.tenant();
      return { ...req, path: `/api/jobs/${turn.job(tenant)}`, headers: { authorization: auth(tenant) } };
    },
  };
  const list: autocannon.Request = {
    method: 'GET',
    path: '/api/jobs?limit=10',
    setupRequest: (req) => ({ ...req, headers: { authorization: auth(turn.tenant()) } }),
  };
  const listFiltered: autocannon.Request = { ...list, path: '/api/jobs?limit=10&status=completed' };
  switch (profile) {
    case 'submit-heavy':
      return [submit];
    case 'list-filtered':
      return [listFiltered];
    case 'poll-heavy':
      return [poll];
    case 'list-heavy':
      return [list];
    case 'mixed':
      return [poll, submit, poll, list, poll];
  }
}
