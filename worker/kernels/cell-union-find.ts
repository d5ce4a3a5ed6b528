/**
 * Union-find over cell indices in a Uint32Array of parents, roots being their clusters' first
 * cells: the cell-by-cell labellings (the artefact's fallback and the streamed slabs) share it.
 */

/** The root of `cell`'s tree, halving the path on the way back so the trees stay flat. */
export function find(parent: Uint32Array, cell: number): number {
  let root = cell;
  while (parent[root] !== root) root = parent[root]!;
  let at = cell;
  while (parent[at] !== root) {
    const next = parent[at]!;
    parent[at] = root;
    at = next;
  }
  return root;
}

/** Joins two open cells' clusters: the smaller root becomes the parent, so roots are first cells. */
export function union(parent: Uint32Array, a: number, b: number): void {
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra < rb) parent[rb] = ra;
  else if (rb < ra) parent[ra] = rb;
}
