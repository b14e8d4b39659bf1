"""Sweep results: a metric against one or two factors of a sweep, and sensitivity indices."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from app_pages.state import kept
from sim.analysis import report
from sim.analysis.metrics import METRICS
from sim.sweep import open_store
from sim.ui import viz
from sim.ui.form import path_label
from sim.ui.text import markdown_literal

st.title("Sweep results")
st.markdown(
    "A sweep runs one scenario over a design of factor values (`ripple sweep`). Open its result store "
    "to see how a metric responds to one factor (a line with its 95% band over replications) or two "
    "(a heatmap), and which factors matter most (sensitivity indices, when the design computed them)."
)

folder = st.text_input(
    "Result store (a folder)",
    key=kept("sw_folder", "sweeps/"),
    help="A store made by `ripple sweep`, or a folder holding several (e.g. sweeps/).",
)
path = Path(folder).expanduser()
if not path.is_dir():
    st.warning(
        f"There is no result store at `{folder}`. Run a sweep first (`ripple sweep …`), "
        "or type the folder of one."
    )
    st.stop()


def _valid(key: str, options: Sequence[object]) -> None:
    """Forget a kept choice that this store does not offer (another store was opened)."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


def _opens(candidate: Path) -> bool:
    try:
        open_store(candidate)
    except Exception:  # not a store: any error opening it says so
        return False
    return True


if not _opens(path):
    inside = sorted(child for child in path.iterdir() if child.is_dir() and _opens(child))
    if not inside:
        st.warning(f"`{folder}` is not a sweep result store and holds none. Run a sweep into it first.")
        st.stop()
    _valid("sw_store", inside)
    path = Path(
        st.selectbox(
            "Stores in this folder", inside, format_func=lambda p: p.name, key=kept("sw_store", inside[0])
        )
    )
try:
    store = open_store(path)
    runs = store.runs()
except Exception as exc:  # a damaged store: say so, never a traceback
    st.error(
        f"{markdown_literal(str(path))} could not be read as a sweep result store: "
        f"{markdown_literal(str(exc))}"
    )
    st.stop()

ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
failed = len(runs) - len(ok)
st.caption(
    f"Experiment **{store.experiment_name}**: {len(runs):,} runs ({failed:,} failed), factors "
    + ", ".join(f"`{f}`" for f in store.factors)
)
if ok.empty or not store.factors or not store.metrics:
    st.warning("This store has no finished runs yet (or no factors/metrics): nothing to plot.")
    st.stop()

# Axes in words with units: the run's currency and each factor's field label, never "currency" or a
# raw path such as ads.daily_budget.
base_data = store.meta.get("base_scenario") or {}
currency = str((base_data.get("economics") or {}).get("currency") or "currency")


def _factor(path: str) -> str:
    return path_label(path, currency, base_data)


cols = st.columns(3)
metrics, factors = list(store.metrics), list(store.factors)
_valid("sw_metric", metrics)
_valid("sw_x", factors)
metric = str(
    cols[0].selectbox("Metric", metrics, format_func=report.metric_label, key=kept("sw_metric", metrics[0]))
)
x_factor = str(cols[1].selectbox("Factor", factors, format_func=_factor, key=kept("sw_x", factors[0])))
others = ["(none)"] + [f for f in factors if f != x_factor]
_valid("sw_y", others)
y_factor = str(
    cols[2].selectbox(
        "Second factor (heatmap)",
        others,
        format_func=lambda f: f if f == "(none)" else _factor(f),
        key=kept("sw_y", "(none)"),
    )
)
unit = report.metric_unit(metric, currency) if metric in METRICS else ""
metric_words = report.metric_label(metric)

if y_factor == "(none)":
    curve = report.sweep_curve(ok, metric, x_factor)
    st.vega_lite_chart(
        viz.sweep_line_chart(curve, x_factor, metric_words, unit, factor_title=_factor(x_factor)),
        width="stretch",
    )
else:
    grid = report.sweep_grid(ok, metric, x_factor, y_factor)
    st.vega_lite_chart(
        viz.sweep_heatmap(
            grid, x_factor, y_factor, metric_words, unit, x_title=_factor(x_factor), y_title=_factor(y_factor)
        ),
        width="stretch",
    )

indices = store.sensitivity()
if indices is None or indices.empty:
    st.caption("This design has no sensitivity analysis (use a Sobol or Morris design to get one).")
elif metric in set(indices["metric"]):
    st.subheader("Sensitivity")
    st.vega_lite_chart(viz.sensitivity_chart(indices, metric), width="stretch")
    st.dataframe(indices[indices["metric"] == metric], hide_index=True)
if failed:
    with st.expander(f"{failed} failed run(s)"):
        st.dataframe(runs[runs["status"] != "ok"], hide_index=True)
