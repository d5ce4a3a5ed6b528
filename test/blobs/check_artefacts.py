"""Loads job artefacts with np.load and checks them against numpy/scipy's own computation.

argv: a directory holding map.npy (bool, True = blocked), labels.npy, component_sizes.npy and
path.npy (with start and end in path_ends.json). Prints one JSON line; exits 1 on a mismatch.
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
print(json.dumps({"cells": int(blocked.size), "components": int(count), "path_cells": int(len(path)), "problems": problems}))
sys.exit(1 if problems else 0)
