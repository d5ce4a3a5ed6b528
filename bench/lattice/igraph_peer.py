"""The python-igraph peer, the approach the original product used: Graph.Lattice, delete the
blocked vertices, get_shortest_paths. Repeated `repeats` times (job JSON, default 1): the fastest
run's timings are reported beside every run's, memory is that of the first. Prints one JSON line.

Usage: /usr/bin/python3 bench/lattice/igraph_peer.py '<job JSON>' BLOCKED_FILE

BLOCKED_FILE holds the blocked cells as little-endian uint32 row-major indices (computed by the
benchmark with the public rule, so this process spends no time hashing).
"""
import array
import bisect
import ctypes
import json
import sys
import time

from peer_memory import reset_peak, status_bytes


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ('arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost')]


def malloc_in_use():
    """Bytes malloc has handed out and not taken back (glibc mallinfo2), or None."""
    try:
        libc = ctypes.CDLL('libc.so.6')
        libc.mallinfo2.restype = MallInfo2
        info = libc.mallinfo2()
        return info.uordblks + info.hblkhd
    except (OSError, AttributeError):
        return None


def main():
    job = json.loads(sys.argv[1])
    import igraph

    shape = job['shape']
    strides = [1] * len(shape)
    for axis in range(len(shape) - 2, -1, -1):
        strides[axis] = strides[axis + 1] * shape[axis + 1]
    start = sum(x * s for x, s in zip(job['start'], strides))
    end = sum(x * s for x, s in zip(job['end'], strides))
    blocked = array.array('I')
    with open(sys.argv[2], 'rb') as source:
        blocked.frombytes(source.read())
    blocked = list(blocked)

    baseline = status_bytes('VmRSS')
    malloc_before = malloc_in_use()
    peak_reset = reset_peak()

    repeats = int(job.get('repeats', 1))
    runs = []
    peak = malloc_after = None
    for _ in range(repeats):
        cpu_started = time.process_time()
        started = time.perf_counter()
        # igraph's first dimension varies fastest; reversed, its vertex ids are our row-major indices.
        graph = igraph.Graph.Lattice(dim=list(reversed(shape)), circular=False)
        graph.delete_vertices(blocked)
        built = time.perf_counter()
        # Deleting vertices renumbers the rest: an id drops by the number of deleted ids below it.
        source = start - bisect.bisect_left(blocked, start)
        target = end - bisect.bisect_left(blocked, end)
        paths = graph.get_shortest_paths(source, to=target, output='vpath')
        searched = time.perf_counter()
        runs.append({'build_ms': (built - started) * 1000, 'search_ms': (searched - built) * 1000,
                     'e2e_ms': (searched - started) * 1000, 'cpu_ms': (time.process_time() - cpu_started) * 1000})
        if peak is None:
            # Peak memory of the first run, the graph still alive.
            peak = (status_bytes('VmHWM') if peak_reset else status_bytes('VmRSS')) - baseline
            malloc_after = malloc_in_use()
        if len(runs) < repeats:
            del graph
    best = min(runs, key=lambda run: run['e2e_ms'])
    path = paths[0] if paths else []
    print(json.dumps({
        'version': igraph.__version__,
        'nodes': graph.vcount(),
        'edges': graph.ecount(),
        **best,
        'e2e_ms_runs': [run['e2e_ms'] for run in runs],
        'search_ms_best': min(run['search_ms'] for run in runs),
        'rss_delta_bytes': peak,
        'bytes_allocated': None if malloc_before is None else malloc_after - malloc_before,
        'bytes_allocated_method': 'glibc mallinfo2 in-use delta, graph alive',
        'length': len(path) - 1 if path else None,
    }))


if __name__ == '__main__':
    main()
