/** Stored lattices, and the shortest-path shortcut on one. */
import type { HttpClient } from '../http.ts';
import type { Lattice, LatticeSummary, LatticeCreateInput, LatticeListQuery, LatticePage, LatticePathInput, LatticePathAnswer, LatticeUpdateInput } from '../types.ts';
import { everyItem } from '../paging.ts';

const path = (id: string) => `/api/lattices/${encodeURIComponent(id)}`;

/** How an uploaded obstacle map is given. */
export interface LatticeUploadOptions {
  /** `png` (2-D), `npy` (bool or uint8) or `bits` (packed, with `shape`). */
  format: 'png' | 'npy' | 'bits';
  /** Packed bits only: one side per axis, axis 0 first. */
  shape?: number[];
  name?: string;
  boundary?: 'open' | 'periodic';
  /** Bytes of `data`, sent as Content-Length (a stream without it is sent chunked). */
  length?: number;
}

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
   * Uploads an obstacle map and stores a lattice of its shape that uses it (201): a PNG (2-D, dark
   * pixels blocked), a NumPy `.npy` of bool or uint8 (nonzero blocked), or packed bits with their
   * `shape`. `data` may be a stream (read once, never held whole); give its `length` when known.
   */
  async upload(data: Uint8Array | ReadableStream<Uint8Array>, options: LatticeUploadOptions): Promise<Lattice> {
    const contentType = { png: 'image/png', npy: 'application/x-npy', bits: 'application/octet-stream' }[options.format];
    const query = {
      format: options.format,
      shape: options.shape?.join(','),
      name: options.name,
      boundary: options.boundary,
    };
    const length = options.length ?? (data instanceof Uint8Array ? data.byteLength : undefined);
    return (await this.http.request<Lattice>('POST', '/api/lattices/upload', { query, rawBody: { data, contentType, length } })).body;
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
