"""Calibrate from your data: upload a series, a cohort table or a transaction log; fit; send to the editor.

The fits are :mod:`sim.fit`'s, the chart is :mod:`sim.ui.fit_chart`'s. "Send to the scenario editor"
adds the fitted scenario to the session's library and selects it in the editor through the
editor's own selector key (:data:`EDITOR_BASE`), then opens the editor.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from app_pages.common import add_to_library, library, scenario_named
from sim.fit import BTYD_MODELS, Fit, FitDataError, fit_cohort_file, fit_series_file, fit_transaction_file
from sim.fit.mapping import fitted_scenario, scenario_values, scenario_yaml
from sim.fit.samples import SAMPLE_NAMES, sample_csv
from sim.ui.fit_chart import fit_chart

#: Session key of the editor's "Scenario to start from" selector: setting it to a library name
#: before opening the editor makes the editor start from that scenario.
EDITOR_BASE = "ed_base"
#: Height of one row of a Streamlit table, in pixels (a table sized to its rows never overlaps what follows).
TABLE_ROW_PX = 35

KINDS = {
    "series": "Adoption or sales series → Bass p, q, m",
    "cohorts": "Cohort retention table → sBG churn α, β",
    "transactions": "Transaction log → purchase rate, churn, order value (Pareto/NBD or BG/NBD, Gamma-Gamma)",
}
FORMATS = {
    "series": "Two columns: the period (1, 2, 3 … or dates) and adoptions or sales in it (or the running "
    "total: tick *cumulative*). At least 4 periods.",
    "cohorts": "A period column (0, 1, 2 …) and the customers still active (counts, or shares starting at "
    "1); or a cohort column followed by columns named 0, 1, 2 …, blank where a cohort is too young.",
    "transactions": "One row per order: customer, date, amount (columns found by name: customer_id, date, "
    "amount …). Ripple's own order log (`ripple run --orders`) works as it is.",
}


@st.cache_data(show_spinner=False, max_entries=12)
def cached_fit(kind: str, data: bytes, name: str, options: str) -> Fit:
    """Fit ``data`` (an upload's bytes) as ``kind`` with ``options`` (JSON; cached; draws nothing)."""
    settings: dict[str, Any] = json.loads(options)
    if kind == "series":
        return fit_series_file(
            data, name, cumulative=settings["cumulative"], period_days=settings["period_days"]
        )
    if kind == "cohorts":
        return fit_cohort_file(
            data, name, period_days=settings["period_days"], cohort_size=settings["cohort_size"]
        )
    return fit_transaction_file(
        data,
        name,
        model=settings["model"],
        time_unit_days=settings["time_unit_days"],
        observation_end=settings["observation_end"] or None,
    )


def _shown(value: Any) -> str:
    """A mapped value as text (the table mixes numbers and words)."""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


st.title("Calibrate from your data")
st.markdown(
    "Fit the model's parameters to your own numbers and start a scenario from them. Each fitted value "
    "comes with a 95% interval; docs/calibration.md explains the fits and what each value sets."
)
kind = st.radio("What do you have?", list(KINDS), format_func=KINDS.__getitem__, key="fit_kind")
st.caption(FORMATS[kind])
st.download_button(
    f"Download a sample {kind} file",
    sample_csv(kind),
    file_name=SAMPLE_NAMES[kind],
    mime="text/csv",
    key=f"fit_sample_{kind}",
)

options: dict[str, Any] = {}
cols = st.columns(3)
if kind == "series":
    options["cumulative"] = cols[0].checkbox("Cumulative (running total)", key="fit_cumulative") or None
    options["period_days"] = (
        cols[1].number_input(
            "Days per period (0 = from the dates, else 365)",
            min_value=0.0,
            value=0.0,
            step=1.0,
            key="fit_series_days",
        )
        or None
    )
elif kind == "cohorts":
    options["period_days"] = cols[0].number_input(
        "Days per period", min_value=1.0, value=365.0, step=1.0, key="fit_cohort_days"
    )
    size = cols[1].number_input(
        "Cohort size when the table holds shares (0 = 1,000)",
        min_value=0,
        value=0,
        step=100,
        key="fit_cohort_size",
    )
    options["cohort_size"] = int(size) or None
else:
    options["model"] = cols[0].selectbox("Model", list(BTYD_MODELS), key="fit_model")
    options["time_unit_days"] = cols[1].number_input(
        "Days per time unit", min_value=1.0, value=7.0, step=1.0, key="fit_unit_days"
    )
    options["observation_end"] = (
        cols[2].text_input("Fit orders up to (YYYY-MM-DD; empty = all)", value="", key="fit_end").strip()
    )

uploaded = st.file_uploader("Upload your file (CSV; Parquet for a transaction log)", key=f"fit_upload_{kind}")
if uploaded is None:
    st.info("Upload a file to fit, or download the sample above and upload it to see how it works.")
    st.stop()

try:
    with st.spinner("Fitting… (a first transaction-log fit compiles the model: up to half a minute)"):
        fitted = cached_fit(kind, uploaded.getvalue(), uploaded.name, json.dumps(options, sort_keys=True))
except FitDataError as exc:
    st.error(f"**{uploaded.name} cannot be fitted:** {exc.message}")
    st.stop()

st.subheader("Fitted values")
table = fitted.parameters()
st.dataframe(
    table[["parameter", "value", "low", "high", "meaning"]].rename(
        columns={"low": "95% low", "high": "95% high"}
    ),
    hide_index=True,
    key="fit_table",
    height=TABLE_ROW_PX * (len(table) + 1) + 3,  # every row, and nothing spilling onto the chart below
    column_config={
        name: st.column_config.NumberColumn(format="%.4g") for name in ("value", "95% low", "95% high")
    },
)
for note in fitted.notes:
    st.warning(note)
st.subheader("Your data and the fit")
st.altair_chart(fit_chart(fitted), key="fit_chart")

st.subheader("What this sets in a scenario")
mapped = scenario_values([fitted])
st.dataframe(
    [{"field": path, "value": _shown(value.value), "from": value.comment} for path, value in mapped.items()],
    hide_index=True,
    key="fit_mapping",
)
names = list(library())
base_name = st.selectbox(
    "Start from (its other settings are kept)",
    names,
    index=names.index("hybrid") if "hybrid" in names else 0,
    key="fit_base",
)
name = st.text_input("Name of the fitted scenario", value=f"fitted ({uploaded.name})", key="fit_name").strip()
base = scenario_named(base_name)
send_cols = st.columns(2)
st.session_state.setdefault("fit_sent", "")
if send_cols[0].button("Send to the scenario editor", type="primary", key="fit_send"):
    scenario = fitted_scenario([fitted], base=base, name=name or "fitted")
    saved = add_to_library(name or "fitted", scenario)
    st.session_state["fit_sent"] = saved
    st.session_state[EDITOR_BASE] = saved
    st.switch_page("app_pages/editor.py")
send_cols[1].download_button(
    "Download the scenario (YAML, commented)",
    scenario_yaml([fitted], base=base, name=name or "fitted", sources=[f"{fitted.kind}: {uploaded.name}"]),
    file_name=f"{(name or 'fitted').replace(' ', '_')}.yaml",
    mime="application/x-yaml",
    key="fit_download",
)
