/**
 * A client as a user writes it against the types openapi-typescript generates from /openapi.json
 * (`./schema.ts` beside it), with openapi-fetch: strict, no casts. openapi-document.test.ts
 * typechecks it; each `@ts-expect-error` is a mistake the types must catch (an unused one fails
 * the check too, so a result typed as a bare record would).
 */
export const CLIENT_SNIPPET = `
import createClient from 'openapi-fetch';
import type { components, paths } from './schema.ts';

type Schemas = components['schemas'];
const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:8080' });

/** A shortest path on an inline lattice, polled once, its result's fields read without a cast. */
export async function shortestPath(): Promise<{ length: number | null; path: number[][]; visited: number; pairs: number }> {
  const submitted = await client.POST('/api/jobs', {
    body: { type: 'shortest_path', lattice: { shape: [8, 8] }, params: { start: [0, 0], end: [7, 7] } },
    params: { header: { 'idempotency-key': 'once' } },
  });
  if (!submitted.data) throw new Error(submitted.error.detail ?? submitted.error.title);
  const { data: job } = await client.GET('/api/jobs/{id}', { params: { path: { id: submitted.data.id } } });
  if (job?.type !== 'shortest_path' || job.result === null) throw new Error('not a finished shortest path');
  const { length, path, visited, pairs } = job.result;
  // @ts-expect-error a components result's field is not a shortest path's
  void job.result.count;
  return { length, path, visited, pairs: pairs?.length ?? 0 };
}

/** Every type's result, told apart by the job's type. */
export function headline(job: Schemas['Job']): number | null {
  if (job.result === null) return null;
  switch (job.type) {
    case 'shortest_path':
      return job.result.length;
    case 'components':
      return job.result.largest;
    case 'diffusion':
      return job.result.total_heat;
    case 'distance_field':
      return job.result.max;
    case 'min_cost_path':
      return job.result.cost;
    case 'percolation':
      return job.result.spans_axis0_below_density;
  }
}

/** A list's summaries carry each type's scalar fields. */
export async function reachable(): Promise<boolean[]> {
  const { data } = await client.GET('/api/jobs', { params: { query: { type: 'shortest_path', status: 'completed' } } });
  return (data?.data ?? []).flatMap((job) => (job.type === 'shortest_path' && job.result_summary ? [job.result_summary.reachable] : []));
}

// Fields the API fills in when left out (boundary, connectivity, sources, initial, params, wait_ms, enabled…) are optional.
export const leftOut: Array<Schemas['JobSubmit'] | Schemas['PathRequest'] | Schemas['LatticeCreate'] | Schemas['BatchSubmit']> = [
  { type: 'components', lattice_id: '00000000-0000-4000-8000-000000000000' },
  { type: 'diffusion', lattice: { shape: [4, 4] }, params: { steps: 1, alpha: 0.1 } },
  { type: 'distance_field', lattice: { dimensions: 2, size: 4 }, params: { face: { axis: 0, side: 'low' } } },
  { lattice_id: '00000000-0000-4000-8000-000000000000', start: [0, 0], end: [1, 1] },
  { shape: [4, 4], obstacles: { density: 0.2, seed: 1 } },
  { jobs: [{}], lattice: { shape: [4, 4] }, defaults: { type: 'components' } },
];

export async function endpoint(): Promise<string | undefined> {
  const { data } = await client.POST('/api/webhooks', { body: { url: 'https://example.test/hook', events: ['job.completed'] } });
  return data?.secret;
}

// @ts-expect-error a job type the API does not have
export const unknownType: Schemas['JobSubmit'] = { type: 'sorting', lattice_id: '00000000-0000-4000-8000-000000000000' };
`;
