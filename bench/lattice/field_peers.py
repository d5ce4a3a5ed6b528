"""scikit-image MCP as the peer of distance_field and min_cost_path. One measurement per
process; prints one JSON line.

Usage: /usr/bin/python3 bench/lattice/field_peers.py KIND '<job JSON>' MASK_FILE

KIND is distance (MCP.find_costs from every source over the whole lattice, unit costs) or
mincost (MCP.find_costs from start to end on the public cost rule, then the traceback).
MASK_FILE holds one byte per cell, 1 = blocked (the job's own cells already open). The cost map
is computed here with the public rule, before timing. MCP counts the start's cost in a path's
cost; Catalytic counts the cells entered, so the start's cost is taken off MCP's answer.
"""
import json
import sys

import numpy as np

from grid_peers import timed

M32 = np.uint64(0xFFFFFFFF)


def lowbias32(x):
    x = x & M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & M32
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & M32
    x ^= x >> np.uint64(16)
    return x


def cell_costs(shape, max_cost, seed):
    """cost(i) = 1 + lowbias32((i + imul(seed, 0x85ebca6b)) >>> 0) mod max, as float64 for MCP."""
    offset = np.uint64((seed * 0x85EBCA6B) & 0xFFFFFFFF)
    index = np.arange(int(np.prod(shape)), dtype=np.uint64)
    return (np.uint64(1) + lowbias32(index + offset) % np.uint64(max_cost)).astype(np.float64).reshape(shape)


def distance(job, blocked, repeats):
    from skimage import __version__ as version
    from skimage.graph import MCP

    sources = [tuple(s) for s in job['sources']]
    full = job.get('connectivity') == 'full'

    def run():
        costs = np.where(blocked, -1.0, 1.0)
        mcp = MCP(costs, fully_connected=full)
        cumulative, _ = mcp.find_costs(sources)
        # Unit costs, the source's own cost included: distance = cumulative - 1.
        reached = np.isfinite(cumulative) & ~blocked
        steps = cumulative[reached] - 1
        return {'reached': int(reached.sum()), 'max': int(steps.max()) if steps.size else None,
                'mean': float(steps.mean()) if steps.size else None}

    answer, walls, cpus, peak = timed(repeats, run)
    return {'peer': 'skimage.graph.MCP.find_costs', 'version': version, **answer}, walls, cpus, peak


def min_cost(job, blocked, repeats):
    from skimage import __version__ as version
    from skimage.graph import MCP

    start, end = tuple(job['start']), tuple(job['end'])
    full = job.get('connectivity') == 'full'
    base = cell_costs(blocked.shape, job['costs']['max'], job['costs']['seed'])

    def run():
        costs = np.where(blocked, -1.0, base)
        mcp = MCP(costs, fully_connected=full)
        cumulative, _ = mcp.find_costs([start], [end])
        if not np.isfinite(cumulative[end]):
            return None, None
        return int(cumulative[end] - costs[start]), len(mcp.traceback(end)) - 1

    (cost, length), walls, cpus, peak = timed(repeats, run)
    return {'peer': 'skimage.graph.MCP', 'version': version, 'cost': cost, 'length': length, 'reachable': cost is not None}, walls, cpus, peak


def main():
    kind, job = sys.argv[1], json.loads(sys.argv[2])
    shape = tuple(job['shape'])
    blocked = np.fromfile(sys.argv[3], dtype=np.uint8).astype(bool).reshape(shape)
    repeats = int(job.get('repeats', 1))
    measure = {'distance': distance, 'mincost': min_cost}[kind]
    answer, walls, cpus, peak = measure(job, blocked, repeats)
    print(json.dumps({**answer, 'e2e_ms': min(walls), 'e2e_ms_runs': walls, 'cpu_ms': min(cpus), 'rss_delta_bytes': peak}))


if __name__ == '__main__':
    main()
