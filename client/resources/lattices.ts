/** Stored lattices, and the shortest-path shortcut on one. */
import type { HttpClient } from '../http.ts';
import type { Lattice, LatticeSummary, LatticeCreateInput, LatticeListQuery, LatticePage, LatticePathInput, LatticePathAnswer, LatticeUpdateInput } from '../types.ts';
import { everyItem } from '../paging.ts';

const path = (id: string) => `/api/lattices/${encodeURIComponent(id)}`;

export class LatticesResource {
  constructor(private readonly http: HttpClient) {}

  /**
   * Stores a lattice spec (a few bytes, however many cells) for jobs to refer to by id: the spec's
   * fields and an optional `name` (201).
   */
  async create(input: LatticeCreateInput): Promise<Lattice> {
    return (await this.http.request<Lattice>('POST', '/api/lattices', { body: input })).body;
  }

  /** One page of the tenant's lattices. */
  async list(query: LatticeListQuery = {}): Promise<LatticePage> {
    return (await this.http.request<LatticePage>('GET', '/api/lattices', { query: { ...query } })).body;
  }

  /** Every lattice (as summaries), page by page. */
  all(query: Omit<LatticeListQuery, 'cursor'> = {}): AsyncGenerator<LatticeSummary> {
    return everyItem((q) => this.list(q), query);
  }

  async get(id: string): Promise<Lattice> {
    return (await this.http.request<Lattice>('GET', path(id))).body;
  }

  async update(id: string, input: LatticeUpdateInput): Promise<Lattice> {
    return (await this.http.request<Lattice>('PATCH', path(id), { body: input })).body;
  }

  async delete(id: string): Promise<void> {
    await this.http.request('DELETE', path(id));
  }

  /**
   * A shortest path on a stored lattice: status 200 with the finished job when it ends within
   * `wait_ms`, else 202 with the job to wait for.
   */
  async path(input: LatticePathInput): Promise<LatticePathAnswer> {
    const response = await this.http.request<LatticePathAnswer['job']>('POST', '/api/lattices/path', { body: input });
    return { status: response.status === 200 ? 200 : 202, job: response.body };
  }
}
