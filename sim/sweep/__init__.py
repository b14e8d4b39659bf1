"""Batch sweeps: experiment files, designs, a resumable Parquet store, sensitivity and optimisation.

>>> from sim.sweep import load_experiment, sweep, open_store
>>> store = sweep("experiments/budget_split.yaml", workers=1)     # doctest: +SKIP
>>> store.runs().groupby("ads.daily_budget")["profit"].mean()    # doctest: +SKIP

See docs/sweeps.md for the experiment file format, the designs, the store layout and cluster use.
"""

from sim.sweep.design import Design, analyse, make_design
from sim.sweep.runner import RunTask, estimate, plan, run_id, run_one, sweep
from sim.sweep.spec import Experiment, experiment_from_dict, load_experiment
from sim.sweep.store import StoreError, SweepStore, open_store

__all__ = [
    "Design",
    "Experiment",
    "RunTask",
    "StoreError",
    "SweepStore",
    "analyse",
    "estimate",
    "experiment_from_dict",
    "load_experiment",
    "make_design",
    "open_store",
    "plan",
    "run_id",
    "run_one",
    "sweep",
]
