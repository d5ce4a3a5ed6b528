"""Loads job artefacts with np.load and checks them against numpy/scipy's own computation.

argv: a directory holding map.npy (bool, True = blocked), labels.npy, component_sizes.npy,
path.npy (with start and end in path_ends.json) and field.npy (diffusion, with its params in
diffusion.json). Prints one JSON line; exits 1 on a mismatch.
"""
import json
import sys

import numpy as np
from scipy import ndimage

folder = sys.argv[1]
blocked = np.load(f"{folder}/map.npy")
labels = np.load(f"{folder}/labels.npy")
sizes = np.load(f"{folder}/component_sizes.npy")
path = np.load(f"{folder}/path.npy")
ends = json.load(open(f"{folder}/path_ends.json"))

problems = []
if labels.dtype != np.uint32 or labels.shape != blocked.shape:
    problems.append(f"labels are {labels.dtype} {labels.shape}")
# scipy numbers clusters by their first cell in C order, as the artefact does; 4-connectivity.
expected, count = ndimage.label(~blocked)
if not np.array_equal(labels, expected):
    problems.append(f"labels differ from scipy.ndimage.label in {int((labels != expected).sum())} cells")
if sizes.dtype != np.uint32 or not np.array_equal(sizes, np.bincount(expected.ravel())[1:]):
    problems.append("component sizes differ from np.bincount")
# The path: from start to end, unit steps, open cells only.
if path.dtype != np.uint32 or path.shape[1] != blocked.ndim:
    problems.append(f"path is {path.dtype} {path.shape}")
elif list(path[0]) != ends["start"] or list(path[-1]) != ends["end"]:
    problems.append("path does not join start and end")
elif not (np.abs(np.diff(path.astype(np.int64), axis=0)).sum(axis=1) == 1).all():
    problems.append("path takes a step that is not to a neighbour")
elif blocked[tuple(path.T)].any():
    problems.append("path crosses a blocked cell")


def diffuse(blocked, params):
    """numpy's explicit diffusion: v = u + sources; u' = v + alpha * sum over open neighbours (v_j - v_i), on open cells."""
    open_ = ~blocked.copy()
    for point in params["sources"] + params["initial"]:
        open_[tuple(point["cell"])] = True  # a job's own cells are open
    u = np.zeros(blocked.shape)
    for point in params["initial"]:
        u[tuple(point["cell"])] += point["value"]
    for _ in range(params["steps"]):
        for point in params["sources"]:
            u[tuple(point["cell"])] += point["value"]
        flux = np.zeros_like(u)
        for axis in range(u.ndim):
            for shift in (1, -1):
                neighbour = np.roll(u, shift, axis)
                neighbour_open = np.roll(open_, shift, axis)
                if params["boundary"] == "open":
                    edge = [slice(None)] * u.ndim
                    edge[axis] = 0 if shift == 1 else -1
                    neighbour_open[tuple(edge)] = False
                flux += np.where(neighbour_open, neighbour - u, 0.0)
        u = np.where(open_, u + params["alpha"] * flux, 0.0)
    return u, open_


field = np.load(f"{folder}/field.npy")
params = json.load(open(f"{folder}/diffusion.json"))
expected_field, open_cells = diffuse(blocked, params)
if field.dtype != np.float32 or field.shape != blocked.shape:
    problems.append(f"field is {field.dtype} {field.shape}")
elif not np.allclose(field, expected_field, rtol=1e-5, atol=1e-5 * np.abs(expected_field).max()):
    problems.append(f"field differs from numpy's diffusion by up to {float(np.abs(field - expected_field).max())}")
elif not np.isclose(field[open_cells].min(), params["min"], rtol=1e-6) or not np.isclose(field[open_cells].max(), params["max"], rtol=1e-6):
    problems.append("field's extremes differ from the result's min and max")
print(json.dumps({"cells": int(blocked.size), "components": int(count), "path_cells": int(len(path)), "field_checked": True, "problems": problems}))
sys.exit(1 if problems else 0)
