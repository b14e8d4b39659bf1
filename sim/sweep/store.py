"""The sweep store: a folder of Parquet parts that results stream into, read through DuckDB.

Layout of a store folder::

    experiment.json        what ran: name, factors, metrics, design, seeds, fingerprint
    design.parquet         every planned run: point, replicate, seed, run_id, one column per factor
    runs_schema.parquet    an empty table with the schema of every part (so an empty store reads)
    sample.npy             Morris/Sobol only: SALib's raw sample matrix, for the analysis
    parts/part-*.parquet   finished runs, written as they finish
    corrupt/               parts that failed their check, moved aside (their runs are re-run)
    report/                written by ``ripple report``
    optuna.db              written by ``ripple optimise``

A part is written under a temporary name, flushed to disk (``fsync``) and then renamed, so a part
under its final name is always complete, even after SIGKILL or a power cut. Parts carry Parquet
page checksums; one that pyarrow cannot read in full (truncated, damaged) is moved to ``corrupt/``
on resume and its runs run again. Reading deduplicates by run id (a successful row wins over an
error row of the same run) and sorts by it, so a store's contents do not depend on how runs were
grouped into parts, or on which worker ran them. Runs whose row is an error are not *finished*:
``--resume`` runs them again.

Queries are safe by default: :meth:`SweepStore.query` loads the store's tables into an in-memory
DuckDB database and then switches off DuckDB's access to files, the network and extensions
(``enable_external_access = false``, with the configuration locked), so SQL such as
``read_csv('/etc/passwd')`` or ``COPY … TO`` is refused. ``allow_external=True`` (``ripple query
--allow-external``) queries the files directly with everything allowed.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.scenario import Problem, ScenarioError

if TYPE_CHECKING:
    import duckdb

__all__ = ["PartWriter", "StoreError", "SweepStore", "open_store"]

META_FILE = "experiment.json"
DESIGN_FILE = "design.parquet"
SCHEMA_FILE = "runs_schema.parquet"
SAMPLE_FILE = "sample.npy"
PARTS_DIR = "parts"
CORRUPT_DIR = "corrupt"
#: Columns of every run row before the factors; the metrics and ``status``, ``error`` follow them.
ID_COLUMNS: tuple[str, ...] = ("run_id", "seed", "replicate")


class StoreError(ScenarioError):
    """A store cannot be opened or used as asked (missing, made by another experiment, …)."""


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the rename is still atomic
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, write: Any) -> None:
    """Write a file under a temporary name with ``write(tmp_path)``, fsync it, then rename it."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _sql_list(paths: Iterable[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


class SweepStore:
    """A sweep's results folder (the app's "Sweep results" page reads it).

    Attributes:
        path: the store folder.
        experiment_name: the experiment's name.
        factors: factor dotted paths, in file order.
        metrics: metric names kept per run.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        meta_file = self.path / META_FILE
        if not meta_file.is_file():
            raise StoreError(
                [Problem("", "must be a sweep store folder (made by ripple sweep)", str(self.path))],
                str(path),
            )
        self.meta: dict[str, Any] = json.loads(meta_file.read_text())
        self.experiment_name: str = self.meta["name"]
        self.factors: list[str] = list(self.meta["factors"])
        self.metrics: list[str] = list(self.meta["metrics"])
        self._valid: dict[Path, tuple[float, int, bool]] = {}

    # ------------------------------------------------------------------ parts

    @property
    def parts_dir(self) -> Path:
        """Folder of the finished parts."""
        return self.path / PARTS_DIR

    @property
    def schema(self) -> pa.Schema:
        """Schema of every part."""
        return pq.read_schema(self.path / SCHEMA_FILE)

    def _check(self, part: Path) -> bool:
        stat = part.stat()
        cached = self._valid.get(part)
        if cached is not None and cached[:2] == (stat.st_mtime, stat.st_size):
            return cached[2]
        try:
            table = pq.read_table(part, page_checksum_verification=True)
            ok = table.schema.names == self.schema.names
        except Exception:  # pyarrow raises several types for damaged files; any of them means corrupt
            ok = False
        self._valid[part] = (stat.st_mtime, stat.st_size, ok)
        return ok

    def parts(self) -> list[Path]:
        """Parts that read in full with a matching schema, by name."""
        if not self.parts_dir.is_dir():
            return []
        return [p for p in sorted(self.parts_dir.glob("part-*.parquet")) if self._check(p)]

    def corrupt_parts(self) -> list[Path]:
        """Parts under their final name that fail to read (damaged after writing)."""
        if not self.parts_dir.is_dir():
            return []
        return [p for p in sorted(self.parts_dir.glob("part-*.parquet")) if not self._check(p)]

    def quarantine(self) -> list[Path]:
        """Move corrupt parts to ``corrupt/`` and delete temporary files of interrupted writes.

        Returns:
            the new paths of the moved parts (their runs count as not finished).
        """
        moved = []
        for part in self.corrupt_parts():
            target = self.path / CORRUPT_DIR / part.name
            target.parent.mkdir(exist_ok=True)
            shutil.move(part, target)
            moved.append(target)
        if self.parts_dir.is_dir():
            for tmp in self.parts_dir.glob(".tmp-*"):
                tmp.unlink(missing_ok=True)
        return moved

    # ------------------------------------------------------------------ reading

    def connect(self, allow_external: bool = False) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with ``runs`` (one row per run id) and ``design``.

        By default the two are tables loaded into memory, after which the connection can reach no
        file, network or extension (``enable_external_access = false``, configuration locked): safe
        for SQL from anyone. With ``allow_external`` they are views over the store's files and
        DuckDB is left as it comes (a person's own queries at their own terminal).
        """
        import duckdb  # on use: about 11 MB that a plain run (``import sim``) never needs

        con = duckdb.connect()
        files = [self.path / SCHEMA_FILE, *self.parts()]
        kind = "view" if allow_external else "table"
        con.execute(
            f"create {kind} runs as select * exclude (filename) from read_parquet({_sql_list(files)}, "
            "filename = true) qualify row_number() over "
            "(partition by run_id order by (status = 'ok') desc, filename) = 1"
        )
        con.execute(
            f"create {kind} design as select * from read_parquet({_sql_list([self.path / DESIGN_FILE])})"
        )
        if not allow_external:
            con.execute("set enable_external_access = false")
            con.execute("set lock_configuration = true")
        return con

    def query(self, sql: str, allow_external: bool = False) -> pd.DataFrame:
        """Run SQL over ``runs`` and ``design``; returns a DataFrame.

        Args:
            sql: the query (DuckDB's SQL).
            allow_external: let the SQL read and write files, the network and extensions (off by
                default: see :meth:`connect`).

        Raises:
            duckdb.Error: for SQL that fails, including ``duckdb.PermissionException`` for SQL that
                reaches outside the store while that is not allowed.
        """
        con = self.connect(allow_external)
        try:
            return con.execute(sql).df()
        finally:
            con.close()

    def runs(self) -> pd.DataFrame:
        """One row per finished run, sorted by run id.

        Columns: ``run_id``, ``seed``, ``replicate``, one per factor (its dotted path), one per
        metric, ``status`` (``"ok"`` or ``"error"``) and ``error`` (the message, else null).
        """
        return self.query("select * from runs order by run_id").reset_index(drop=True)

    def design(self) -> pd.DataFrame:
        """Every planned run in design order: ``point``, ``replicate``, ``seed``, ``run_id``, factors."""
        return pq.read_table(self.path / DESIGN_FILE).to_pandas()

    def run_ids_by_status(self) -> tuple[set[str], set[str]]:
        """Run ids with a successful row, and run ids whose only rows are errors."""
        ok: set[str] = set()
        failed: set[str] = set()
        for part in self.parts():
            table = pq.read_table(part, columns=["run_id", "status"])
            for run_id, status in zip(
                table.column("run_id").to_pylist(), table.column("status").to_pylist(), strict=True
            ):
                (ok if status == "ok" else failed).add(run_id)
        return ok, failed - ok

    def finished_ids(self) -> set[str]:
        """Run ids with a successful row in a readable part (``--resume`` skips exactly these)."""
        return self.run_ids_by_status()[0]

    def failed_ids(self) -> set[str]:
        """Run ids whose only rows are errors (``--resume`` runs them again)."""
        return self.run_ids_by_status()[1]

    @property
    def n_planned(self) -> int:
        """Distinct runs the design plans."""
        return int(self.meta["n_runs"])

    @property
    def complete(self) -> bool:
        """Whether every planned run has finished."""
        return len(self.finished_ids()) >= self.n_planned

    def sensitivity(self) -> pd.DataFrame | None:
        """Sobol or Morris indices per metric and factor (see :func:`sim.sweep.design.analyse`).

        Each point's output is its mean over replications. None when the design has no sensitivity
        analysis (grid, random, latin) or when runs are still missing.
        """
        from sim.sweep.design import analyse

        kind = self.meta.get("sensitivity")
        if kind is None or not (self.path / SAMPLE_FILE).is_file():
            return None
        design = self.design()[["point", "run_id"]]
        runs = self.runs()
        merged = design.merge(runs[["run_id", *self.metrics]], on="run_id", how="left", indicator=True)
        if (merged["_merge"] != "both").any():
            return None
        means = merged.groupby("point")[self.metrics].mean().sort_index()
        sample = np.load(self.path / SAMPLE_FILE)
        design_spec = self.meta["design"]
        return analyse(
            kind,
            self.meta["problem"],
            sample,
            {metric: means[metric].to_numpy(dtype=float) for metric in self.metrics},
            seed=int(design_spec["seed"]),
            levels=int(design_spec["levels"]),
            second_order=bool(design_spec["second_order"]),
        )


def open_store(path: str | Path) -> SweepStore:
    """Open an existing store folder."""
    return SweepStore(path)


def create_store(
    path: Path,
    meta: dict[str, Any],
    design: pd.DataFrame,
    schema: pa.Schema,
    sample: np.ndarray | None,
) -> SweepStore:
    """Write a new store's metadata, design, schema and sample (each atomically)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / PARTS_DIR).mkdir(exist_ok=True)
    table = pa.Table.from_pandas(design, preserve_index=False)
    write_atomic(path / DESIGN_FILE, lambda tmp: pq.write_table(table, tmp))
    write_atomic(path / SCHEMA_FILE, lambda tmp: pq.write_table(schema.empty_table(), tmp))
    if sample is not None:
        write_atomic(path / SAMPLE_FILE, lambda tmp: np.save(open(tmp, "wb"), sample))  # noqa: SIM115
    # The metadata goes last: a folder without it is not a store yet, and is simply made again.
    text = json.dumps(meta, indent=2, sort_keys=True)
    write_atomic(path / META_FILE, lambda tmp: Path(tmp).write_text(text))
    return SweepStore(path)


class PartWriter:
    """Buffers finished runs and writes them as parts, at most every ``seconds`` or ``rows`` runs."""

    def __init__(self, store: SweepStore, schema: pa.Schema, seconds: float = 2.0, rows: int = 1000) -> None:
        self.store = store
        self.schema = schema
        self.seconds = seconds
        self.rows = rows
        self._buffer: list[dict[str, Any]] = []
        self._last = _now()
        self.written = 0

    def add(self, row: dict[str, Any]) -> None:
        """Buffer one run row; write a part when the buffer is due."""
        self._buffer.append(row)
        if len(self._buffer) >= self.rows or _now() - self._last >= self.seconds:
            self.flush()

    def flush(self) -> None:
        """Write buffered rows as one part (atomically); does nothing when the buffer is empty."""
        self._last = _now()
        if not self._buffer:
            return
        table = pa.Table.from_pylist(self._buffer, schema=self.schema)
        name = f"part-{uuid.uuid4().hex}.parquet"
        write_atomic(
            self.store.parts_dir / name,
            lambda tmp: pq.write_table(table, tmp, write_page_checksum=True),
        )
        self.written += len(self._buffer)
        self._buffer = []


def _now() -> float:
    import time

    return time.monotonic()
