"""A cached kernel is dropped when any kernel source changes: numba alone checks only its own file."""

from __future__ import annotations

import os
from pathlib import Path

from sim.engine.compiled import KERNEL_SOURCES, PACKAGE, drop_stale_kernels, source_fingerprint


def _package(tmp_path: Path) -> Path:
    package = tmp_path / "pkg"
    for folder in KERNEL_SOURCES:
        (package / folder / "__pycache__").mkdir(parents=True)
        (package / folder / "kernels.py").write_text("x = 1\n")
        (package / folder / "__pycache__" / "kernels.f-1.py313.nbi").write_bytes(b"index")
        (package / folder / "__pycache__" / "kernels.f-1.py313.nbc").write_bytes(b"code")
    (package / "ui").mkdir()
    (package / "ui" / "page.py").write_text("y = 1\n")
    return package


def _cached(package: Path) -> int:
    return len([*package.rglob("*.nbi"), *package.rglob("*.nbc")])


def test_an_edit_to_any_kernel_source_drops_every_cached_kernel(tmp_path: Path) -> None:
    package = _package(tmp_path)
    assert drop_stale_kernels(package) and _cached(package) == 0  # no fingerprint yet: built blind
    (package / "rules" / "__pycache__" / "kernels.f-1.py313.nbi").write_bytes(b"index")
    assert not drop_stale_kernels(package) and _cached(package) == 1  # nothing changed: kept
    source = package / "engine" / "kernels.py"  # (another file than the cached kernel's own)
    source.write_text("x = 2\n")
    os.utime(source, ns=(1, 1))
    assert drop_stale_kernels(package) and _cached(package) == 0


def test_an_edit_outside_the_kernel_sources_keeps_the_cache(tmp_path: Path) -> None:
    package = _package(tmp_path)
    drop_stale_kernels(package)
    before = source_fingerprint(package)
    (package / "ui" / "page.py").write_text("y = 22\n")
    assert source_fingerprint(package) == before


def test_every_kernel_is_defined_in_a_fingerprinted_subpackage() -> None:
    defining = {
        path.relative_to(PACKAGE).parts[0]
        for path in PACKAGE.rglob("*.py")
        if "@kernel" in path.read_text() or "= kernel(" in path.read_text()
    }
    assert defining <= set(KERNEL_SOURCES), defining
