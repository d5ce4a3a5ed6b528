/**
 * The packed bits of an uploaded obstacle map, read from the blob store into shared memory that
 * every slab thread reads (1 bit per cell: 12.5 MB for 10^8 cells). Maps are immutable, so recently
 * used ones are kept, up to a byte budget: a burst of jobs on one map reads it once.
 */
import type { BlobStore } from '../shared/blobs/index.ts';
import type { LatticeSpec } from '../shared/lattice/types.ts';

/** Bytes of maps kept between jobs. */
const CACHED_BYTES = 64 * 2 ** 20;

/** The uploaded map a spec's obstacles name, or undefined when they are not a map. */
export function obstacleMapId(spec: LatticeSpec): string | undefined {
  const obstacles = spec.obstacles;
  return obstacles !== undefined && 'map' in obstacles ? obstacles.map : undefined;
}

export class ObstacleMapLoader {
  private readonly cache = new Map<string, Uint8Array>();
  private cachedBytes = 0;

  constructor(private readonly blobs: BlobStore) {}

  /** The map `spec` names, or undefined when its obstacles are not a map. */
  async bitsOf(tenantId: string, spec: LatticeSpec): Promise<Uint8Array | undefined> {
    const mapId = obstacleMapId(spec);
    if (mapId === undefined) return undefined;
    const key = `${tenantId}:${mapId}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const row = await this.blobs.findOwned(tenantId, mapId);
    if (!row) throw new Error(`obstacle map ${mapId} is missing`);
    const bits = new Uint8Array(new SharedArrayBuffer(row.size));
    let at = 0;
    for await (const piece of this.blobs.read(row)) {
      bits.set(piece, at);
      at += piece.length;
    }
    if (at !== row.size) throw new Error(`obstacle map ${mapId} read ${at} of ${row.size} bytes`);
    if (row.size <= CACHED_BYTES) {
      this.cache.set(key, bits);
      this.cachedBytes += row.size;
      for (const [old, value] of this.cache) {
        if (this.cachedBytes <= CACHED_BYTES) break;
        this.cache.delete(old);
        this.cachedBytes -= value.byteLength;
      }
    }
    return bits;
  }
}
