"""Sweeps: one store whatever runs it (serial, LocalCluster, a real Dask cluster), resume, recovery."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.sweep import open_store, sweep
from sim.sweep import runner as sweep_runner
from tests.conftest import ROOT
from tests.sweep_helpers import write_experiment

RUN_COLUMNS = [
    "run_id",
    "seed",
    "replicate",
    "ads.daily_budget",
    "incentives.amount_referrer",
    "profit",
    "new_customers",
    "marketing_spend",
    "status",
    "error",
]


@pytest.fixture(scope="module")
def experiment_file(tmp_path_factory) -> Path:
    return write_experiment(tmp_path_factory.mktemp("experiment"))


@pytest.fixture(scope="module")
def serial_runs(experiment_file, tmp_path_factory) -> pd.DataFrame:
    store = sweep(experiment_file, out=tmp_path_factory.mktemp("serial") / "store", workers=1, progress=False)
    return store.runs()


def test_store_api_and_contents(serial_runs, experiment_file, tmp_path):
    store = sweep(experiment_file, out=tmp_path / "store", workers=1, progress=False)
    again = open_store(tmp_path / "store")
    assert again.experiment_name == "tiny"
    assert again.factors == ["ads.daily_budget", "incentives.amount_referrer"]
    assert again.metrics == ["profit", "new_customers", "marketing_spend"]
    runs = again.runs()
    assert list(runs.columns) == RUN_COLUMNS
    assert len(runs) == 12 and runs["run_id"].is_monotonic_increasing and runs["run_id"].is_unique
    assert (runs["status"] == "ok").all() and runs["error"].isna().all()
    assert again.sensitivity() is None  # a grid has no sensitivity analysis
    pd.testing.assert_frame_equal(runs, serial_runs)  # same file → same store, run after run
    # Runs are real: a bigger ad budget spends more, on the same world and random numbers.
    spend = runs.groupby("ads.daily_budget")["marketing_spend"].mean()
    assert spend.is_monotonic_increasing and spend[0.0] < spend[20.0]
    assert store.query("select count(*) as n from runs")["n"].item() == 12


def test_the_world_is_built_once_per_replication_not_per_run(experiment_file, tmp_path):
    sweep_runner._worlds.clear()
    before = sweep_runner.world_builds()
    sweep(experiment_file, out=tmp_path / "store", workers=1, progress=False)
    assert sweep_runner.world_builds() - before == 2  # 2 replications × 6 points: 2 worlds


def test_local_cluster_store_equals_serial(serial_runs, experiment_file, tmp_path, monkeypatch):
    # As under Streamlit (or after an AppTest in this process): __main__ is the app script, which
    # worker processes must not run while they start.
    app_main = types.ModuleType("__main__")
    app_main.__file__ = str(ROOT / "app.py")
    monkeypatch.setitem(sys.modules, "__main__", app_main)
    store = sweep(experiment_file, out=tmp_path / "store", workers=2, progress=False)
    pd.testing.assert_frame_equal(store.runs(), serial_runs)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_real_dask_cluster_gives_the_same_store(serial_runs, experiment_file, tmp_path):
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    common = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dask",
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            **common,
        )
    ]
    try:
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "dask", "worker", address, "--nthreads", "1", "--no-dashboard"],
                    **common,
                )
            )
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=60)
        store = sweep(experiment_file, out=tmp_path / "store", scheduler=address, progress=False)
        pd.testing.assert_frame_equal(store.runs(), serial_runs)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_sigkill_then_resume_equals_an_uninterrupted_sweep(tmp_path):
    path = write_experiment(
        tmp_path,
        scenario={"network.n": 300, "days": 60},
        factors={"ads.daily_budget": {"low": 0.0, "high": 20.0, "levels": 30}},
        replications=3,
    )
    killed = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "sim.cli",
        "sweep",
        str(path),
        "--workers",
        "1",
        "--out",
        str(killed),
        "--part-seconds",
        "0",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = killed / "parts"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if parts.is_dir() and len(list(parts.glob("part-*.parquet"))) >= 5:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the sweep finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = open_store(killed)
    done = len(partial.finished_ids())
    assert 5 <= done < 90
    assert partial.corrupt_parts() == []  # a part under its final name is always whole
    resumed = sweep(path, out=killed, workers=1, resume=True, progress=False)
    reference = sweep(path, out=tmp_path / "reference", workers=1, progress=False)
    pd.testing.assert_frame_equal(resumed.runs(), reference.runs())
    assert len(resumed.runs()) == 90
    assert not list(parts.glob(".tmp-*"))


def test_resume_is_refused_without_the_flag_and_for_another_experiment(experiment_file, tmp_path):
    out = tmp_path / "store"
    sweep(experiment_file, out=out, workers=1, progress=False)
    result = CliRunner().invoke(app, ["sweep", str(experiment_file), "--workers", "1", "--out", str(out)])
    assert result.exit_code == 2 and "pass --resume" in " ".join(result.output.split())
    other = write_experiment(tmp_path, name="tiny", replications=3)
    result = CliRunner().invoke(app, ["sweep", str(other), "--workers", "1", "--out", str(out), "--resume"])
    assert result.exit_code == 2 and "made by a different experiment" in " ".join(result.output.split())


def test_corrupt_parts_are_detected_and_their_runs_rerun(serial_runs, experiment_file, tmp_path):
    out = tmp_path / "store"
    store = sweep(experiment_file, out=out, workers=1, progress=False, part_seconds=0)
    parts = store.parts()
    assert len(parts) == 12  # one run per part
    truncated, garbage = parts[3], parts[7]
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    garbage.write_bytes(b"not parquet at all")
    damaged = open_store(out)
    assert damaged.corrupt_parts() == [truncated, garbage]
    assert len(damaged.runs()) == 10  # readers skip damaged parts
    resumed = sweep(experiment_file, out=out, workers=1, resume=True, progress=False)
    pd.testing.assert_frame_equal(resumed.runs(), serial_runs)
    assert sorted(p.name for p in (out / "corrupt").iterdir()) == sorted([truncated.name, garbage.name])


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    ring = tmp_path / "ring.txt"
    ring.write_text("".join(f"{i} {(i + 1) % 300}\n" for i in range(300)))
    path = write_experiment(
        tmp_path,
        scenario={"network": {"kind": "edge_list", "n": 300, "path": str(ring)}, "days": 20},
        factors={"network.path": {"values": [str(ring), str(tmp_path / "missing.txt")]}},
        replications=2,
    )
    runs = sweep(path, out=tmp_path / "store", workers=1, progress=False).runs()
    assert len(runs) == 4
    failed = runs[runs["status"] == "error"]
    assert (failed["network.path"] == str(tmp_path / "missing.txt")).all() and len(failed) == 2
    assert failed["error"].str.contains("missing.txt").all()
    assert failed["profit"].isna().all()
    ok = runs[runs["status"] == "ok"]
    assert ok["error"].isna().all() and ok["profit"].notna().all()


def test_sobol_sensitivity_finds_the_factor_that_matters(tmp_path):
    # The discount rate changes only CLV, never spend: its indices on marketing spend are zero.
    path = write_experiment(
        tmp_path,
        factors={
            "ads.daily_budget": {"low": 0.0, "high": 0.5},
            "economics.annual_discount_rate": {"low": 0.05, "high": 0.3},
        },
        design={"kind": "sobol", "samples": 8, "seed": 1},
        replications=1,
    )
    store = sweep(path, out=tmp_path / "store", workers=1, progress=False)
    table = store.sensitivity()
    assert table is not None
    assert list(table.columns) == ["metric", "factor", "method", "S1", "S1_conf", "ST", "ST_conf"]
    spend = table[table["metric"] == "marketing_spend"].set_index("factor")
    assert spend.loc["economics.annual_discount_rate", "ST"] == 0.0
    assert spend.loc["economics.annual_discount_rate", "S1"] == 0.0
    assert spend.loc["ads.daily_budget", "ST"] > 0.8


def test_morris_sensitivity_reports_mu_star(tmp_path):
    path = write_experiment(
        tmp_path,
        factors={
            "ads.daily_budget": {"low": 0.0, "high": 0.5},
            "economics.annual_discount_rate": {"low": 0.05, "high": 0.3},
        },
        design={"kind": "morris", "samples": 4, "seed": 2},
        replications=1,
    )
    table = sweep(path, out=tmp_path / "store", workers=1, progress=False).sensitivity()
    assert table is not None
    spend = table[table["metric"] == "marketing_spend"].set_index("factor")
    assert list(table.columns) == ["metric", "factor", "method", "mu_star", "mu_star_conf", "sigma"]
    assert spend.loc["economics.annual_discount_rate", "mu_star"] == 0.0
    assert spend.loc["ads.daily_budget", "mu_star"] > 0


def test_report_and_query_commands(experiment_file, tmp_path):
    out = tmp_path / "store"
    sweep(experiment_file, out=out, workers=1, progress=False)
    result = CliRunner().invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("runs.csv", "summary.csv", "key_plot.png", "report.html"):
        assert (out / "report" / name).stat().st_size > 0
    summary = pd.read_csv(out / "report" / "summary.csv")
    assert len(summary) == 6 * 3 and (summary["n"] == 2).all()
    result = CliRunner().invoke(
        app,
        [
            "query",
            str(out),
            'select "ads.daily_budget" as b, count(*) as n from runs group by 1 order by 1',
            "--csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["b,n", "0.0,4", "5.0,4", "20.0,4"]
    result = CliRunner().invoke(app, ["query", str(out), "select nope from runs"])
    assert result.exit_code == 2 and "Traceback" not in " ".join(result.output.split())
    result = CliRunner().invoke(app, ["query", str(tmp_path), "select 1"])
    assert result.exit_code == 2 and "must be a sweep store folder" in " ".join(result.output.split())


def test_failed_runs_run_again_on_resume_and_the_cli_says_how(tmp_path, monkeypatch):
    """A failing run is an error row; ``--resume`` runs it again (a run whose worker died, or whose
    input was missing, may pass the second time), and the successful row then wins."""
    ring = tmp_path / "ring.txt"
    ring.write_text("".join(f"{i} {(i + 1) % 300}\n" for i in range(300)))
    later = tmp_path / "later.txt"
    path = write_experiment(
        tmp_path,
        scenario={"network": {"kind": "edge_list", "n": 300, "path": str(ring)}, "days": 10},
        factors={"network.path": {"values": [str(ring), str(later)]}},
        replications=1,
    )
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(app, ["sweep", str(path), "--workers", "1"])
    assert first.exit_code == 0, first.output
    assert "1 run(s) failed" in first.output and f"ripple sweep {path} --resume" in first.output
    store = open_store(tmp_path / "sweeps" / "tiny")
    assert len(store.finished_ids()) == 1 and len(store.failed_ids()) == 1
    later.write_text(ring.read_text())  # the missing input arrives
    second = CliRunner().invoke(app, ["sweep", str(path), "--workers", "1", "--resume"])
    assert second.exit_code == 0, second.output
    assert "failed" not in second.output
    runs = store.runs()
    assert len(runs) == 2 and (runs["status"] == "ok").all()  # the ok row wins over the old error row
    assert len(store.finished_ids()) == 2 and not store.failed_ids()


def test_a_sweep_checks_memory_once_before_it_creates_its_store(tmp_path, monkeypatch):
    calls = []

    def refuse(scenario, **kwargs):
        calls.append((scenario, kwargs))
        raise sweep_runner.ScenarioError([sweep_runner.Problem("network", "must fit in memory", "")])

    monkeypatch.setattr(sweep_runner, "check_memory", refuse)
    path = write_experiment(
        tmp_path, factors={"network.n": {"values": [300, 900, 600]}}, replications=3, metrics=["profit"]
    )
    with pytest.raises(sweep_runner.ScenarioError, match="must fit in memory"):
        sweep(path, out=tmp_path / "store", workers=2, progress=False)
    ((largest, kwargs),) = calls  # once for the whole experiment …
    assert largest.network.n == 900  # … on its largest design point
    assert kwargs["processes"] == 2 and kwargs["worlds_per_process"] == sweep_runner.WORLD_CACHE_SIZE
    assert not (tmp_path / "store").exists()
