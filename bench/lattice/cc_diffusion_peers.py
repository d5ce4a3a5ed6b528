"""Grid-native peers for the components and diffusion kernels, on the engine's procedural lattice.

Usage: python3 cc_diffusion_peers.py components SIDE DIMS DENSITY SEED REPEATS
       python3 cc_diffusion_peers.py diffusion SIDE DIMS DENSITY SEED REPEATS STEPS ALPHA
Prints one JSON line: best wall ms of REPEATS, and the answer to check against the engine.
"""
import json
import sys
import time

import numpy as np


def lowbias32(x):
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    x = x ^ (x >> np.uint32(16))
    return x


def blocked_mask(shape, density, seed):
    cells = int(np.prod(shape))
    threshold = min(2**32, int(np.floor(density * 2**32)))
    offset = (seed * 0x9E3779B9) & 0xFFFFFFFF
    idx = (np.arange(cells, dtype=np.uint64) + offset) & 0xFFFFFFFF
    h = lowbias32(idx.astype(np.uint32))
    return (h.astype(np.uint64) < threshold).reshape(shape)


def components(shape, blocked, repeats, connectivity="axis"):
    from scipy import ndimage

    open_ = ~blocked
    # `full`: every cell of the 3^d block around a cell is its neighbour (the engine's `full`).
    structure = ndimage.generate_binary_structure(len(shape), len(shape)) if connectivity == "full" else None
    best = float("inf")
    best_cpu = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        c = time.process_time()
        labels, count = ndimage.label(open_, structure=structure)
        best = min(best, (time.perf_counter() - t) * 1000)
        best_cpu = min(best_cpu, (time.process_time() - c) * 1000)
    sizes = np.bincount(labels.ravel())[1:]
    return {"ms": best, "cpu_ms": best_cpu, "count": int(count), "largest": int(sizes.max()) if count else 0}


def diffusion(shape, blocked, repeats, steps, alpha, initial):
    open_ = ~blocked
    openf = open_.astype(np.float32)
    d = len(shape)
    # For each direction, 1 where the cell and that neighbour are both open and the neighbour
    # exists (faces insulate: the open boundary).
    masks = []
    for a in range(d):
        for shift in (1, -1):
            m = open_ & np.roll(open_, shift, axis=a)
            face = [slice(None)] * d
            face[a] = 0 if shift == 1 else -1
            m[tuple(face)] = False
            masks.append((a, shift, m.astype(np.float32)))
    best = float("inf")
    best_cpu = float("inf")
    for _ in range(repeats):
        u = np.zeros(shape, dtype=np.float32)
        u[initial] = 1000.0
        t = time.perf_counter()
        c = time.process_time()
        for _ in range(steps):
            flux = np.zeros_like(u)
            for a, shift, m in masks:
                flux += (np.roll(u, shift, axis=a) - u) * m
            u = (u + np.float32(alpha) * flux) * openf
        best = min(best, (time.perf_counter() - t) * 1000)
        best_cpu = min(best_cpu, (time.process_time() - c) * 1000)
    vals = u[open_]
    return {"ms": best, "cpu_ms": best_cpu, "total": float(vals.sum(dtype=np.float64)), "max": float(vals.max()), "min": float(vals.min())}


def main():
    kind, side, dims, density, seed, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    shape = (side,) * dims
    blocked = blocked_mask(shape, density, seed)
    if kind == "components":
        out = components(shape, blocked, repeats, sys.argv[7] if len(sys.argv) > 7 else "axis")
    else:
        steps, alpha = int(sys.argv[7]), float(sys.argv[8])
        centre = tuple([side // 2] * dims)
        blocked[centre] = False
        out = diffusion(shape, blocked, repeats, steps, alpha, centre)
    print(json.dumps(out))


main()
