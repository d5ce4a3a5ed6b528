"""The grid-native peers: the tools a user with a lattice in a numpy array reaches for. One
measurement per process; prints one JSON line.

Usage: /usr/bin/python3 bench/lattice/grid_peers.py KIND '<job JSON>' MASK_FILE

KIND is mcp (scikit-image MCP, shortest path), label (scipy.ndimage.label, components) or
diffusion (a numpy stencil with the engine's semantics). MASK_FILE holds one byte per cell in
row-major order, 1 = blocked, computed by the benchmark with the public rule (the job's own
cells already open), so these processes spend no time hashing. Each timing is repeated
`repeats` times; the best and every run are reported, peak RSS is that of the first run.
"""
import json
import sys
import time

from peer_memory import reset_peak, status_bytes

import numpy as np


def timed(repeats, run):
    """Runs `run` `repeats` times; returns (last answer, wall ms per run, CPU ms per run, peak RSS rise of the first)."""
    baseline = status_bytes('VmRSS')
    peak_reset = reset_peak()
    walls, cpus, peak, answer = [], [], None, None
    for _ in range(repeats):
        cpu_started = time.process_time()
        started = time.perf_counter()
        answer = run()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu_started) * 1000)
        if peak is None:
            peak = (status_bytes('VmHWM') if peak_reset else status_bytes('VmRSS')) - baseline
    return answer, walls, cpus, peak


def shortest_path(job, blocked, repeats):
    from skimage import __version__ as version
    from skimage.graph import MCP

    start, end = tuple(job['start']), tuple(job['end'])

    def run():
        # Unit costs, blocked cells impassable (negative), 2·d neighbours (3^d − 1 with connectivity
        # full): a breadth-first search.
        costs = np.where(blocked, -1.0, 1.0)
        mcp = MCP(costs, fully_connected=job.get('connectivity') == 'full')
        cumulative, _ = mcp.find_costs([start], [end])
        if not np.isfinite(cumulative[end]):
            return None
        return len(mcp.traceback(end)) - 1

    length, walls, cpus, peak = timed(repeats, run)
    return {'peer': 'skimage.graph.MCP', 'version': version, 'length': length, 'reachable': length is not None}, walls, cpus, peak


def components(job, blocked, repeats):
    from scipy import __version__ as version
    from scipy import ndimage

    open_cells = ~blocked
    # 2·d neighbours, or the 3^d − 1 of the surrounding block with connectivity full.
    structure = ndimage.generate_binary_structure(blocked.ndim, blocked.ndim if job.get('connectivity') == 'full' else 1)
    (labels, count), walls, cpus, peak = timed(repeats, lambda: ndimage.label(open_cells, structure=structure))
    # Cluster sizes, timed apart: the engine's components answer also carries the largest cluster.
    sizes, size_walls, _, _ = timed(repeats, lambda: np.bincount(labels.ravel())[1:])
    return {
        'peer': 'scipy.ndimage.label',
        'version': version,
        'count': int(count),
        'largest': int(sizes.max()) if count > 0 else 0,
        'sizes_ms': min(size_walls),
    }, walls, cpus, peak


def direction_masks(open_cells, periodic):
    """Per axis and direction (+1, -1), where a cell has an open neighbour that way, as float32."""
    masks = []
    for axis, side in enumerate(open_cells.shape):
        wraps = periodic and side > 2
        for shift in (1, -1):
            # np.roll(a, -shift) puts the neighbour at x + shift where x is.
            mask = open_cells & np.roll(open_cells, -shift, axis)
            if not wraps:
                face = [slice(None)] * open_cells.ndim
                face[axis] = slice(side - 1, side) if shift == 1 else slice(0, 1)
                mask[tuple(face)] = False
            masks.append((axis, shift, mask.astype(np.float32)))
    return masks


def heat(shape, points):
    field = np.zeros(shape, dtype=np.float32)
    for point in points:
        field[tuple(point['cell'])] += np.float32(point['value'])
    return field


def diffusion(job, blocked, repeats):
    """v = u + f; u' = v + alpha · Σ (v[j] - v[i]) over open neighbours j of open i; blocked cells 0."""
    params = job['params']
    steps, alpha = params['steps'], np.float32(params['alpha'])
    periodic = job.get('boundary') == 'periodic'
    open_cells = ~blocked
    open_f = open_cells.astype(np.float32)
    masks = direction_masks(open_cells, periodic)
    sources = heat(blocked.shape, params.get('sources', []))
    initial = heat(blocked.shape, params.get('initial', []))

    def run():
        u = initial.copy()
        flux = np.empty_like(u)
        term = np.empty_like(u)
        for _ in range(steps):
            u += sources
            flux.fill(0)
            for axis, shift, mask in masks:
                np.subtract(np.roll(u, -shift, axis), u, out=term)
                term *= mask
                flux += term
            flux *= alpha
            u += flux
            u *= open_f
        return u

    field, walls, cpus, peak = timed(repeats, run)
    values = field[open_cells]
    sampled = sample_shape(list(blocked.shape), 4096)
    return {
        'peer': 'numpy stencil (masked np.roll per direction, float32)',
        'version': np.__version__,
        'total_heat': float(values.sum(dtype=np.float64)),
        'min': float(values.min()) if values.size else 0.0,
        'max': float(values.max()) if values.size else 0.0,
        'field': {'shape': sampled, 'values': block_means(field, sampled).tolist()},
        'cell_steps': int(blocked.size) * steps,
    }, walls, cpus, peak


def sample_shape(shape, max_values):
    """The engine's sampled field shape: halve the longest axis (rounding up) until it fits."""
    out = list(shape)
    while int(np.prod(out)) > max_values:
        longest = max(range(len(out)), key=lambda a: (out[a], -a))
        out[longest] = -(-out[longest] // 2)
    return out


def block_means(field, sampled):
    """Mean of every block: coordinate x of side n falls in block floor(x · m / n) of m."""
    index = np.zeros(field.shape, dtype=np.int64)
    for axis, (side, blocks) in enumerate(zip(field.shape, sampled)):
        along = (np.arange(side, dtype=np.int64) * blocks) // side
        view = [1] * field.ndim
        view[axis] = side
        index = index * blocks + along.reshape(view)
    total = int(np.prod(sampled))
    sums = np.bincount(index.ravel(), weights=field.ravel().astype(np.float64), minlength=total)
    counts = np.bincount(index.ravel(), minlength=total)
    return sums / counts


def main():
    kind, job = sys.argv[1], json.loads(sys.argv[2])
    shape = tuple(job['shape'])
    blocked = np.fromfile(sys.argv[3], dtype=np.uint8).astype(bool).reshape(shape)
    repeats = int(job.get('repeats', 1))
    measure = {'mcp': shortest_path, 'label': components, 'diffusion': diffusion}[kind]
    answer, walls, cpus, peak = measure(job, blocked, repeats)
    print(json.dumps({
        **answer,
        'blocked_cells': int(blocked.sum()),
        'e2e_ms': min(walls),
        'e2e_ms_runs': walls,
        'cpu_ms': min(cpus),
        'rss_delta_bytes': peak,
    }))


if __name__ == '__main__':
    main()
