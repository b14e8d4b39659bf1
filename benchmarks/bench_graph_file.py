"""Time reading a 5M-tie edge list (KONECT style: a ``%`` header, 1-based ids) with ``read_edge_list``.

The file is generated in a temporary folder (random ties among 1M people, ids from 1, written by
pyarrow) and read ``REPEATS`` times in this process; prints one JSON line: ties, people, file size,
median and best read time, peak RSS. Target on the 2-core machine: ≤ 5 s per read.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from sim.world.edge_list import read_edge_list

TIES = int(os.environ.get("BENCH_GRAPH_TIES", 5_000_000))
PEOPLE = 1_000_000
REPEATS = 3


def write_file(folder: Path, weighted: bool) -> Path:
    rng = np.random.default_rng(1)
    src = rng.integers(1, PEOPLE + 1, TIES)
    dst = rng.integers(1, PEOPLE + 1, TIES)
    columns = {"u": src, "v": dst}
    if weighted:
        columns["w"] = rng.integers(1, 10, TIES)
    path = folder / ("weighted.txt" if weighted else "edges.txt")
    with path.open("wb") as out:
        out.write(b"% sym " + (b"positive" if weighted else b"unweighted") + b"\n")
        out.write(f"% {TIES} {PEOPLE} {PEOPLE}\n".encode())
    with path.open("ab") as out:
        options = pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none")
        pacsv.write_csv(pa.table(columns), out, write_options=options)
    return path


def main() -> None:
    weighted = len(sys.argv) > 1 and sys.argv[1] == "weighted"
    with tempfile.TemporaryDirectory(prefix="ripple-bench-graph-") as folder:
        path = write_file(Path(folder), weighted)
        size = path.stat().st_size
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            graph = read_edge_list(path)
            times.append(time.perf_counter() - started)
            people, edges = graph.n, graph.n_edges
            del graph
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {
        "ties": TIES,
        "weighted": weighted,
        "people": people,
        "edges": edges,
        "file_mb": size / 1e6,
        "read_s": statistics.median(times),
        "min_read_s": min(times),
        "peak_rss_mib": peak,
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
