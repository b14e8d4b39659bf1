"""``ripple report``: tables and the key plot of a sweep store, written into ``STORE/report/``.

Files: ``runs.csv`` (every finished run), ``summary.csv`` (per design point and metric: mean and 95%
interval over replications), ``sensitivity.csv`` (Sobol/Morris designs), ``effects.csv`` (per
metric and factor: whether its effect stands out of the noise), ``key_plot.png`` and ``report.html``
(the tables and the plot on one page, factors within noise flagged).

The key plot follows the experiment's ``plot:`` (x factor, y metric, colour factor):

* grid designs: the mean of y against x with its interval, one line per value of the colour factor;
* random and Latin-hypercube designs: every run as a point, coloured by the colour factor;
* Sobol and Morris designs: the sensitivity indices of y per factor (S1 and ST with intervals, or
  μ* with its interval and σ).
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never a window, works on servers without a display

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import special

from sim.analysis.compare import mean_interval
from sim.analysis.metrics import METRICS
from sim.scenario import Problem, ScenarioError
from sim.sweep.spec import Experiment
from sim.sweep.store import SweepStore

__all__ = [
    "Report",
    "bass_adopters",
    "factor_effects",
    "key_plot_axes",
    "summary_table",
    "write_optuna_report",
    "write_report",
]

#: A factor whose effect has a p-value at or above this (or whose index interval reaches 0) is
#: flagged as within noise.
NOISE_LEVEL = 0.05

REPORT_DIR = "report"


class Report:
    """What :func:`write_report` produced: the tables and the files written."""

    def __init__(
        self,
        summary: pd.DataFrame,
        sensitivity: pd.DataFrame | None,
        files: list[Path],
        effects: pd.DataFrame | None = None,
    ) -> None:
        self.summary = summary
        self.sensitivity = sensitivity
        self.files = files
        self.effects = effects


def summary_table(store: SweepStore, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per design point (combination of factor values) and metric: mean, ci_low, ci_high, n, errors."""
    runs = store.runs() if runs is None else runs
    factors = store.factors
    rows = []
    groups = runs.groupby(factors, dropna=False, sort=True) if factors else [((), runs)]
    for key, group in groups:
        values = key if isinstance(key, tuple) else (key,)
        point = dict(zip(factors, values, strict=True))
        errors = int((group["status"] != "ok").sum())
        for metric in store.metrics:
            mean, low, high, n = mean_interval(group[metric].to_numpy(dtype=float))
            rows.append(
                {
                    **point,
                    "metric": metric,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                    "errors": errors,
                }
            )
    return pd.DataFrame(rows, columns=[*factors, "metric", "mean", "ci_low", "ci_high", "n", "errors"])


def factor_effects(store: SweepStore, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per metric and factor: the factor's effect and whether it is within noise.

    Grid, random and Latin designs: a linear model of the metric on every factor plus one fixed
    effect per replicate (replicate r of every point shares its random numbers, so the replicate
    effect takes out the common noise), with a grid's values, and any factor given by ``values:``,
    as categories and other ranges as numbers. A factor's partial F-test (the model with and without
    its columns) gives ``p_value``; ``within_noise`` when p ≥ 0.05. ``effect`` is the spread of the
    metric's mean over the factor's values (categories) or slope × range (numbers). Sobol: within
    noise when the total index's 95% interval reaches 0 (ST − ST_conf ≤ 0); Morris: when μ*'s does.

    Columns: metric, factor, method, effect, p_value, within_noise.
    """
    columns = ["metric", "factor", "method", "effect", "p_value", "within_noise"]
    factors = store.factors
    if not factors:
        return pd.DataFrame(columns=columns)
    sensitivity = store.sensitivity()
    kind = store.meta["design"]["kind"]
    rows: list[dict[str, Any]] = []
    if kind in ("sobol", "morris"):
        if sensitivity is None:
            return pd.DataFrame(columns=columns)
        for row in sensitivity.to_dict("records"):
            index, conf = (
                (row["ST"], row["ST_conf"]) if kind == "sobol" else (row["mu_star"], row["mu_star_conf"])
            )
            noisy = bool(not np.isfinite(index) or index - conf <= 0.0)
            rows.append(
                {
                    "metric": row["metric"],
                    "factor": row["factor"],
                    "method": "ST interval" if kind == "sobol" else "mu_star interval",
                    "effect": index,
                    "p_value": math.nan,
                    "within_noise": noisy,
                }
            )
        return pd.DataFrame(rows, columns=columns)
    runs = store.runs() if runs is None else runs
    runs = runs[runs["status"] == "ok"]
    specs = (store.meta.get("experiment") or {}).get("factors", {})
    categorical = {
        f: kind == "grid" or specs.get(f, {}).get("values") is not None or not _numeric(runs[f])
        for f in factors
    }
    for metric in store.metrics:
        data = runs[[*factors, "replicate", metric]].dropna()
        for factor in factors:
            effect, p_value = _partial_f_test(data, factors, categorical, factor, metric)
            rows.append(
                {
                    "metric": metric,
                    "factor": factor,
                    "method": "F-test with replicate effects",
                    "effect": effect,
                    "p_value": p_value,
                    "within_noise": bool(not p_value < NOISE_LEVEL),
                }
            )
    return pd.DataFrame(rows, columns=columns)


def _numeric(column: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column))


def _design_columns(data: pd.DataFrame, factor: str, categorical: bool) -> np.ndarray:
    if categorical:
        dummies = pd.get_dummies(data[factor].astype(str), drop_first=True, dtype=float)
        return dummies.to_numpy()
    values = data[factor].to_numpy(dtype=float)
    return (values - values.mean()).reshape(-1, 1)


def _rss_rank(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    coef, _res, rank, _sv = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    return float(residual @ residual), int(rank)


def _partial_f_test(
    data: pd.DataFrame, factors: list[str], categorical: dict[str, bool], factor: str, metric: str
) -> tuple[float, float]:
    """(effect, p-value) of ``factor`` on ``metric`` in a linear model with replicate effects."""
    y = data[metric].to_numpy(dtype=float)
    if y.size < 2:
        return math.nan, math.nan
    if categorical[factor]:
        means = data.groupby(factor)[metric].mean()
        effect = float(means.max() - means.min()) if len(means) > 1 else 0.0
    else:
        x = data[factor].to_numpy(dtype=float)
        slope = float(np.polyfit(x, y, 1)[0]) if np.ptp(x) > 0 else 0.0
        effect = slope * float(np.ptp(x))
    blocks = [np.ones((y.size, 1))]
    blocks.append(pd.get_dummies(data["replicate"].astype(str), drop_first=True, dtype=float).to_numpy())
    others = [_design_columns(data, f, categorical[f]) for f in factors if f != factor]
    mine = _design_columns(data, factor, categorical[factor])
    rss_reduced, rank_reduced = _rss_rank(np.hstack([*blocks, *others]), y)
    rss_full, rank_full = _rss_rank(np.hstack([*blocks, *others, mine]), y)
    q = rank_full - rank_reduced
    df = y.size - rank_full
    explained = max(rss_reduced - rss_full, 0.0)
    scale = max(float(np.abs(y).max()), 1.0) ** 2 * 1e-12 * y.size  # rounding noise of the sums
    if q <= 0 or explained <= scale:
        return effect, 1.0  # the factor explains nothing beyond rounding
    if df <= 0 or rss_full <= scale:
        return effect, 0.0  # an exact effect with no noise left to compare it with
    f_stat = (explained / q) / (rss_full / df)
    return effect, float(special.fdtrc(q, df, f_stat))


def key_plot_axes(store: SweepStore) -> tuple[str | None, str, str | None]:
    """(x factor, y metric, colour factor) of the key plot, from the experiment's ``plot:``."""
    plot = store.meta.get("plot") or {}
    factors = store.factors
    x = plot.get("x") or (factors[0] if factors else None)
    y = plot.get("y") or store.metrics[0]
    others = [f for f in factors if f != x]
    color = plot.get("color") or (others[0] if others else None)
    return x, y, color


def _label(metric: str) -> str:
    unit = METRICS[metric].unit if metric in METRICS else ""
    return f"{metric} ({unit})" if unit else metric


def _draw(store: SweepStore, runs: pd.DataFrame, sensitivity: pd.DataFrame | None, path: Path) -> None:
    x, y, color = key_plot_axes(store)
    kind = store.meta["design"]["kind"]
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    if sensitivity is not None:
        mine = sensitivity[sensitivity["metric"] == y]
        positions = range(len(mine))
        if kind == "sobol":
            ax.barh(
                [p - 0.2 for p in positions], mine["S1"], 0.4, xerr=mine["S1_conf"], label="first order S1"
            )
            ax.barh([p + 0.2 for p in positions], mine["ST"], 0.4, xerr=mine["ST_conf"], label="total ST")
            ax.set_xlabel(f"Sobol' index of {y} (share of variance)")
        else:
            ax.barh(list(positions), mine["mu_star"], 0.6, xerr=mine["mu_star_conf"], label="μ*")
            ax.plot(mine["sigma"], list(positions), "o", color="black", label="σ")
            ax.set_xlabel(f"Morris elementary effect on {_label(y)}")
        ax.set_yticks(list(positions), list(mine["factor"]))
        ax.legend()
        ax.set_title(f"{store.experiment_name}: what drives {y}")
    elif x is None:
        ax.hist(runs[y].dropna(), bins=20)
        ax.set_xlabel(_label(y))
        ax.set_ylabel("runs")
        ax.set_title(f"{store.experiment_name}: {y} over replications")
    elif kind == "grid":
        summary = summary_table(store, runs)
        summary = summary[summary["metric"] == y]
        series = summary.groupby(color, dropna=False, sort=True) if color else [(None, summary)]
        for value, group in series:
            group = group.groupby(x, as_index=False)[["mean", "ci_low", "ci_high"]].mean().sort_values(x)
            low = (group["mean"] - group["ci_low"]).fillna(0).clip(lower=0)
            high = (group["ci_high"] - group["mean"]).fillna(0).clip(lower=0)
            label = f"{color} = {_short(value)}" if color else None
            ax.errorbar(group[x], group["mean"], yerr=[low, high], marker="o", capsize=3, label=label)
        if (store.meta.get("plot") or {}).get("reference") == "bass":
            _bass_reference(ax, store, summary)
        ax.set_xlabel(x)
        ax.set_ylabel(f"mean {_label(y)} (95% interval)")
        if color:
            ax.legend(fontsize="small")
        ax.set_title(f"{store.experiment_name}: {y} by {x}")
    else:
        scatter = ax.scatter(
            runs[x],
            runs[y],
            c=runs[color] if color and pd.api.types.is_numeric_dtype(runs[color]) else None,
            s=14,
        )
        if color and pd.api.types.is_numeric_dtype(runs[color]):
            fig.colorbar(scatter, ax=ax, label=color)
        ax.set_xlabel(x)
        ax.set_ylabel(_label(y))
        ax.set_title(f"{store.experiment_name}: {y} by {x} (every run)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def bass_adopters(n: int, p_year: float, q_year: float, years: float) -> float:
    """Adopters by ``years`` in the Bass model: n·F(T), F(T) = (1 − e^{−(p+q)T}) / (1 + (q/p)·e^{−(p+q)T})."""
    decay = math.exp(-(p_year + q_year) * years)
    return n * (1 - decay) / (1 + (q_year / p_year) * decay)


def _bass_reference(ax: Any, store: SweepStore, summary: pd.DataFrame) -> None:
    """Dashed Bass curves: p = organic rate × 365, q = share rate × p_convert × 365 (docs/science.md §1)."""
    base = store.meta["base_scenario"]
    n, years, p_convert = base["network"]["n"], base["days"] / 365, base["sharing"]["p_convert"]
    if n is None:  # a graph file's people: no closed form to draw against
        return
    shares = sorted(summary["sharing.rate_share_per_day"].unique())
    for rate in sorted(summary["organic.rate_per_day"].unique()):
        expected = [bass_adopters(n, rate * 365, share * p_convert * 365, years) for share in shares]
        ax.plot(shares, expected, linestyle="--", color="grey", linewidth=1)
    ax.plot([], [], linestyle="--", color="grey", label="Bass n·F(T)")
    ax.legend(fontsize="small")


def _short(value: Any) -> str:
    if isinstance(value, float) and not math.isnan(value):
        return f"{value:g}"
    return str(value)


def write_report(store: SweepStore) -> Report:
    """Write the report files into ``STORE/report/`` and return the tables and paths."""
    folder = store.path / REPORT_DIR
    folder.mkdir(exist_ok=True)
    runs = store.runs()
    summary = summary_table(store, runs)
    sensitivity = store.sensitivity()
    effects = factor_effects(store, runs)
    files = []
    for name, frame in (
        ("runs", runs),
        ("summary", summary),
        ("sensitivity", sensitivity),
        ("effects", effects),
    ):
        if frame is not None:
            path = folder / f"{name}.csv"
            frame.to_csv(path, index=False)
            files.append(path)
    plot = folder / "key_plot.png"
    _draw(store, runs, sensitivity, plot)
    files.append(plot)
    page = folder / "report.html"
    page.write_text(_html(store, runs, summary, sensitivity, plot, effects))
    files.append(page)
    return Report(summary, sensitivity, files, effects)


def _html(
    store: SweepStore,
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    sensitivity: pd.DataFrame | None,
    plot: Path,
    effects: pd.DataFrame,
) -> str:
    image = base64.b64encode(plot.read_bytes()).decode()
    failed = int((runs["status"] != "ok").sum()) if len(runs) else 0
    parts = [
        "<!doctype html><meta charset='utf-8'>",
        f"<title>{html.escape(store.experiment_name)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style>",
        f"<h1>{html.escape(store.experiment_name)}</h1>",
        f"<p>{html.escape(store.meta.get('question', ''))}</p>",
        f"<p>{len(runs)} of {store.n_planned} runs finished, {failed} failed; design "
        f"{html.escape(store.meta['design']['kind'])}, {store.meta['replications']} replication(s).</p>",
        f"<img alt='key plot' src='data:image/png;base64,{image}'>",
    ]
    if len(effects):
        noisy = effects[effects["within_noise"]]
        listed = "".join(
            f"<li>{html.escape(str(r.factor))} on {html.escape(str(r.metric))}</li>"
            for r in noisy.itertuples()
        )
        parts += [
            "<h2>Factors whose effect is within noise</h2>",
            f"<ul>{listed}</ul>" if listed else "<p>None: every factor moves every metric beyond noise.</p>",
            effects.to_html(index=False, float_format=lambda v: f"{v:.3g}"),
        ]
    if sensitivity is not None:
        parts += ["<h2>Sensitivity</h2>", sensitivity.to_html(index=False, float_format=lambda v: f"{v:.3g}")]
    parts += [
        "<h2>Mean per design point (95% interval)</h2>",
        summary.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
    ]
    return "\n".join(parts) + "\n"


def write_optuna_report(experiment: Experiment, out: str | Path | None = None) -> Report:
    """Report of a ``ripple optimise`` study: the confirmed winner, every trial, and the key plot.

    The winner is re-checked on fresh replications (:func:`sim.sweep.optimise.confirm`): its
    interval, whether it beats the runner-up and the status quo, and the settings within noise of
    it lead the page (``confirmation.csv``). With one factor the plot is the objective against it;
    with two or more, the first two factors as axes and the objective as colour, the best trial
    circled. Files go to ``STORE/report/``.
    """
    import optuna

    from sim.sweep.optimise import STUDY_FILE, confirm

    objective = experiment.optimise
    folder = experiment.store_path(out)
    if objective is None or not (folder / STUDY_FILE).is_file():
        raise ScenarioError(
            [Problem("", "has no Optuna study yet: run ripple optimise first", str(folder / STUDY_FILE))],
            experiment.source,
        )
    study = optuna.load_study(
        study_name=experiment.name, storage=f"sqlite:///{(folder / STUDY_FILE).resolve()}"
    )
    trials = study.trials_dataframe()
    done = trials[trials["state"] == "COMPLETE"].rename(columns=lambda c: c.removeprefix("params_"))
    report_dir = folder / REPORT_DIR
    report_dir.mkdir(parents=True, exist_ok=True)
    trials_csv = report_dir / "trials.csv"
    trials.to_csv(trials_csv, index=False)
    factors = experiment.search_paths  # with an allocation, its weights (share:<path>) too
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    best = study.best_trial if len(done) else None
    if len(factors) == 1:
        ax.scatter(done[factors[0]], done["value"], s=18)
        ax.set_xlabel(factors[0])
        ax.set_ylabel(f"mean {_label(objective.metric)}")
        if best is not None:
            ax.scatter(
                [best.params[factors[0]]],
                [float(best.value or math.nan)],
                s=120,
                facecolors="none",
                edgecolors="red",
            )
    else:
        x, y = factors[0], factors[1]
        points = ax.scatter(done[x], done[y], c=done["value"], s=24, cmap="viridis")
        fig.colorbar(points, ax=ax, label=f"mean {_label(objective.metric)}")
        if best is not None:
            ax.scatter(
                [best.params[x]], [best.params[y]], s=160, facecolors="none", edgecolors="red", label="best"
            )
            ax.legend()
        ax.set_xlabel(x)
        ax.set_ylabel(y)
    ax.set_title(f"{experiment.name}: {len(done)} trials, {objective.direction} {objective.metric}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    plot = report_dir / "key_plot.png"
    fig.savefig(plot)
    plt.close(fig)
    image = base64.b64encode(plot.read_bytes()).decode()
    files = [trials_csv, plot]
    confirmation = confirm(experiment, study, out=out)
    verdict: list[str] = []
    if confirmation is not None:
        confirmed_csv = report_dir / "confirmation.csv"
        confirmation.trials.to_csv(confirmed_csv, index=False)
        files.append(confirmed_csv)
        verdict = [
            f"<h2>Best setting, confirmed on {confirmation.replications} fresh replications</h2>",
            "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in confirmation.lines()) + "</ul>",
            confirmation.trials.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
        ]
    page = report_dir / "report.html"
    page.write_text(
        "\n".join(
            [
                "<!doctype html><meta charset='utf-8'>",
                f"<title>{html.escape(experiment.name)}</title>",
                f"<h1>{html.escape(experiment.name)}</h1><p>{html.escape(experiment.question)}</p>",
                *verdict,
                f"<img alt='key plot' src='data:image/png;base64,{image}'>",
                "<h2>Trials</h2>",
                done.to_html(index=False),
            ]
        )
        + "\n"
    )
    files.append(page)
    return Report(done, None, files)
