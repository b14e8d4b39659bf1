"""Will a run fit in memory? An estimate from the scenario alone, checked before anything is built.

A scenario can validate and still need far more memory than the machine has (an Erdős–Rényi graph
on 100,000 people with a mean degree of 99,999 holds five billion edges, about 400 GB). Building it
would swap the machine to a halt or be killed half-way. :func:`estimate_memory` predicts the peak
memory of one run from the scenario's sizes, and :func:`check_memory` refuses, with the estimate and
the memory available, when it will not fit. ``ripple run``, ``compare``, ``validate`` and ``sweep``
check before they build anything (``--no-memory-check`` skips it); so do :func:`sim.run` and
:func:`sim.compare` (``check_memory=False`` skips it).

The estimate is linear in people, edges and days; its coefficients were measured as peak resident
memory (``ru_maxrss``) above the interpreter's own, on runs of 100,000 to 1,000,000 people and 1 to
8 million edges of every graph kind, the hybrid preset and every rule switched on (see
``docs/model.md``, "Safety and limits"). They are rounded up: the estimate is meant to be a little
high, never far low.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

from sim.scenario import (
    MAX_PEOPLE,
    BarabasiAlbertSpec,
    CommunitySpec,
    CompleteGraphSpec,
    EdgeListSpec,
    ErdosRenyiSpec,
    Problem,
    Scenario,
    ScenarioError,
    WattsStrogatzSpec,
)

__all__ = [
    "BYTES_PER_DAY",
    "BYTES_PER_EDGE",
    "BYTES_PER_PERSON",
    "BYTES_PER_PROCESS",
    "MemoryEstimate",
    "available_memory",
    "check_memory",
    "estimate_memory",
]

#: Peak bytes per person of one run: the world's population columns, the run's copy of them, every
#: rule's per-person arrays and the day's temporaries (measured 185-460 B, most with the complete
#: graph and every rule on).
BYTES_PER_PERSON = 500
#: Peak bytes per (undirected) edge: the CSR (both directions, int32), the generator's temporaries
#: while building it and the float64 adjacency matrix the rules multiply by (measured 52-80 B).
BYTES_PER_EDGE = 80
#: Bytes per simulated day: a row of the step table and the day's ledger lines (measured 6-10 kB).
BYTES_PER_DAY = 12_288
#: Memory of one more Python process with Ripple loaded (a comparison's or a sweep's worker): ~220 MB
#: of imports and ~75 MB of compiled kernels.
BYTES_PER_PROCESS = 320 * 2**20
#: Bytes of an edge-list file per edge (``"12345 67890\n"`` is 12; short ids make it shorter).
EDGE_LIST_BYTES_PER_EDGE = 6


@dataclass(frozen=True)
class MemoryEstimate:
    """The predicted peak memory of one run, and what it is made of (bytes; edges and people counts)."""

    people: int
    edges: int
    days: int
    bytes: int

    def sizes(self) -> str:
        """What the estimate counts, in words."""
        return f"{self.people:,} people, {self.edges:,} edges, {self.days:,} days"

    def __str__(self) -> str:
        return f"about {_gib(self.bytes)} ({self.sizes()})"


def _gib(n_bytes: float) -> str:
    if n_bytes >= 2**30:
        return f"{n_bytes / 2**30:,.1f} GiB"
    return f"{n_bytes / 2**20:,.0f} MiB"


def _edges(scenario: Scenario) -> int:
    """Expected undirected edges of the real people's graph (before fake accounts)."""
    network = scenario.network
    if isinstance(network, EdgeListSpec):
        return _file_bytes(scenario, network) // EDGE_LIST_BYTES_PER_EDGE
    n = network.n
    assert n is not None  # only a graph file may leave network.n out
    if isinstance(network, CompleteGraphSpec):
        return 0  # never stored: the complete graph is implicit (its per-person cost is in BYTES_PER_PERSON)
    if isinstance(network, ErdosRenyiSpec):
        return round(n * network.mean_degree / 2)
    if isinstance(network, BarabasiAlbertSpec):
        return n * network.m
    if isinstance(network, WattsStrogatzSpec):
        return n * network.k // 2
    if isinstance(network, CommunitySpec):
        return round(n * (network.mean_degree_within + network.mean_degree_between) / 2)
    return 0


def _file_bytes(scenario: Scenario, network: EdgeListSpec) -> int:
    """Size of a scenario's graph file (an upload's bytes, or the file on disk; 0 if it cannot be seen)."""
    if scenario.attachments is not None:
        return len(scenario.attachments.get(network.path, b""))
    path = Path(network.path)
    if not path.is_absolute() and scenario.base_dir is not None:
        path = Path(scenario.base_dir) / path
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


def estimate_memory(scenario: Scenario) -> MemoryEstimate:
    """Predicted peak memory of one run of ``scenario`` (bytes above the interpreter's own).

    Counts people (``network.n``, or for a graph file without it one per tie, plus the attackers'
    fake accounts), expected edges (from the graph's parameters; a graph file's from its size; a ring
    of ``k`` fake accounts adds k(k−1)/2) and days, each times its measured cost. Reads no file but a
    graph file's size; builds nothing.
    """
    fraud = scenario.fraud
    k = fraud.accounts_per_attacker
    n_fake = fraud.n_fake_accounts
    n_rings = round(fraud.share_rings * fraud.n_attackers)
    fake_edges = n_rings * k * (k - 1) // 2 + n_fake * (fraud.ring_links_to_real + 1)
    real_edges = _edges(scenario)
    # A graph file without network.n: as many people as ties (mean degree 2) bounds a sparse file's people.
    real = scenario.network.n if scenario.network.n is not None else min(real_edges, MAX_PEOPLE)
    people = real + n_fake
    edges = real_edges + fake_edges
    n_bytes = people * BYTES_PER_PERSON + edges * BYTES_PER_EDGE + scenario.days * BYTES_PER_DAY
    return MemoryEstimate(people=people, edges=edges, days=scenario.days, bytes=int(n_bytes))


def _cgroup_available() -> int | None:
    """Memory the container's cgroup still allows (limit − use, page cache not counted), if limited."""
    root = Path("/sys/fs/cgroup")
    for limit_file, usage_file in (
        ("memory.max", "memory.current"),  # cgroup v2
        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),  # cgroup v1
    ):
        try:
            limit_text = (root / limit_file).read_text().strip()
            if limit_text == "max":
                return None
            limit = int(limit_text)
            if limit >= 2**60:  # v1 writes a huge number for "no limit"
                return None
            used = int((root / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        cache = 0
        try:
            stat = (root / limit_file).parent / ("memory.stat")
            for line in stat.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name in ("inactive_file", "total_inactive_file"):
                    cache = int(value)
                    break
        except (OSError, ValueError):
            cache = 0
        return max(limit - (used - cache), 0)
    return None


def available_memory() -> int:
    """Bytes this process can still allocate.

    The least of the machine's available memory, the container's cgroup limit and the address-space
    limit (``ulimit -v``).
    """
    import psutil

    available = int(psutil.virtual_memory().available)
    cgroup = _cgroup_available()
    if cgroup is not None:
        available = min(available, cgroup)
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft not in (resource.RLIM_INFINITY, -1):
        used = int(psutil.Process(os.getpid()).memory_info().vms)
        available = min(available, max(soft - used, 0))
    return available


def check_memory(
    scenarios: Scenario | list[Scenario],
    *,
    processes: int = 1,
    worlds_per_process: int = 1,
    available: int | None = None,
    source: str | None = None,
) -> MemoryEstimate:
    """Refuse, before building anything, a run that will not fit in memory.

    Args:
        scenarios: the scenario, or every scenario of a comparison or sweep (the largest counts).
        processes: runs going on at once, each in its own process (a comparison's or sweep's workers);
            each extra process also costs :data:`BYTES_PER_PROCESS`.
        worlds_per_process: worlds each process keeps at once besides the running one (a sweep's
            cache of recent worlds).
        available: bytes available (default: :func:`available_memory`).
        source: named in the error (the scenario file).

    Returns:
        The estimate of the largest scenario's run.

    Raises:
        ScenarioError: saying the estimate, the memory available and how to go on.
    """
    items = scenarios if isinstance(scenarios, list) else [scenarios]
    largest = max((estimate_memory(s) for s in items), key=lambda e: e.bytes)
    world_bytes = largest.people * BYTES_PER_PERSON // 2 + largest.edges * BYTES_PER_EDGE // 2
    per_process = largest.bytes + max(worlds_per_process - 1, 0) * world_bytes
    need = processes * per_process + max(processes - 1, 0) * BYTES_PER_PROCESS
    free = available_memory() if available is None else available
    if need > free:
        running = f" on {processes} processes at once" if processes > 1 else ""
        raise ScenarioError(
            [
                Problem(
                    "network" if largest.edges or largest.people else "",
                    f"must fit in memory: the run needs about {_gib(need)}{running} ({largest.sizes()}), "
                    f"but this machine has {_gib(free)} available; make the market smaller (network.n, "
                    "the mean degree), or pass --no-memory-check (memory_check=False) to try anyway",
                    "",
                )
            ],
            source,
        )
    return largest
