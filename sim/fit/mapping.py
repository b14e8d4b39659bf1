"""From fitted values to scenario fields, and a scenario file that says where each value came from.

The mapping (docs/calibration.md explains each line):

- **Bass** (docs/science.md §1): the complete graph (Bass's everyone-meets-everyone), ``organic.rate_per_day
  = p / days per period`` (the external force), ``sharing.rate_share_per_day × sharing.p_convert =
  q / days per period`` (word of mouth), ads off (p already holds all external influence in the
  data), churn off unless a cohort fit gives it (Bass counts adopters), the series' span as the
  horizon and the market potential m as the number of people (clipped to [1,000, 100,000]; p and
  q are shares, so the curve does not depend on the scale).
- **sBG** (docs/science.md §4): ``population.churn_alpha = α``, ``churn_beta = β``, ``days_churn_period``
  = the table's period. Exact: Ripple draws each person's θ ~ Beta(α, β) per period.
- **Pareto/NBD or BG/NBD** (docs/metrics.md, "Order log"): ``population.rate_purchase_per_day = r/α``
  (per day) and ``purchase_rate_shape = r`` (Ripple's purchase rates are Gamma with that mean and
  shape). Churn, when no cohort table is given: Pareto/NBD's dropout μ ~ Gamma(s, β) becomes
  Beta(a, b) per period with the same survival curve (exact when s = 1: a = 1, b = β/period); BG/NBD's
  drop after each purchase with p ~ Beta(a, b) becomes Beta(a, b) per mean time between purchases
  (an approximation: Ripple's churn runs in time, not per purchase).
- **Gamma-Gamma**: ``population.order_value_mean = p·v/(q − 1)`` (the mean spend per purchase) and
  ``order_value_sigma = sqrt(ln(1 + 1/(q − 2)))``, the log-normal shape with the same spread of
  customers' mean spend (coefficient of variation ``1/sqrt(q − 2)``; q ≤ 2 has infinite spread and
  is capped at the schema's 4). Ripple has no spread within one customer's orders.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml
from scipy.optimize import minimize
from scipy.special import betaln

from sim.fit._stats import number
from sim.fit.bass import BassFit
from sim.fit.btyd import BtydFit
from sim.fit.sbg import SbgFit
from sim.scenario import Scenario, apply_overrides, scenario_from_dict

__all__ = ["Fit", "MappedValue", "fitted_scenario", "scenario_values", "scenario_yaml"]

Fit = BassFit | SbgFit | BtydFit

#: Bounds on the people a Bass fit's market potential becomes (a run must stay quick).
PEOPLE_MIN, PEOPLE_MAX = 1_000, 100_000
_SIGMA_MAX = 4.0  # PopulationSpec.order_value_sigma's upper bound


@dataclass(frozen=True)
class MappedValue:
    """A scenario field set from a fit, and a sentence saying where the value came from."""

    value: Any
    comment: str


def _g(x: float) -> str:
    return number(x)


def _days(unit: float) -> str:
    return "day" if unit == 1 else f"{_g(unit)} days"


def _bass_values(fit: BassFit, people: int | None, churn_from_cohorts: bool) -> dict[str, MappedValue]:
    days = fit.period_days
    p, q, m = fit.p.value, fit.q.value, fit.m.value
    n = int(people) if people is not None else int(min(max(round(m), PEOPLE_MIN), PEOPLE_MAX))
    scale = (
        "one simulated person per unit"
        if abs(n - m) < 0.5
        else f"each simulated person stands for {m / n:.3g} units"
    )
    p_convert = 0.08
    rate_share = q / days / p_convert
    if rate_share > 50.0:  # the schema's bound: raise the conversion instead
        p_convert = min(1.0, q / days / 50.0)
        rate_share = q / days / p_convert
    period = f"{_g(days)}-day period"
    values = {
        "network.kind": MappedValue(
            "complete", "Bass assumes everyone can hear from everyone: the complete graph"
        ),
        "network.n": MappedValue(
            n, f"Bass m = {_g(m)} {fit.unit}; {scale} (p and q do not depend on the scale)"
        ),
        "days": MappedValue(
            round(len(fit.table) * days),
            f"the span of the series: {len(fit.table)} periods of {_g(days)} days",
        ),
        "organic.rate_per_day": MappedValue(
            p / days,
            f"Bass p = {fit.p} per {period} (95% interval), divided by {_g(days)}: the external force",
        ),
        "sharing.rate_share_per_day": MappedValue(
            rate_share, f"Bass q = {fit.q} per {period}: rate_share_per_day × p_convert = q / {_g(days)}"
        ),
        "sharing.p_convert": MappedValue(p_convert, "with rate_share_per_day, makes Bass q (word of mouth)"),
        "sharing.normalisation": MappedValue(
            "fraction", "Bass's q·F: the share of a person's friends who adopted"
        ),
        "sharing.days_share_half_life": MappedValue(
            None, "Bass's adopters talk as much in year ten as on day one: word of mouth does not fade"
        ),
        "customers.p_first_order": MappedValue(1.0, "Bass counts adoptions: every adopter buys"),
        "customers.days_to_first_order": MappedValue(0.0, "an adoption is a purchase, on the day"),
        "ads.daily_budget": MappedValue(
            0.0, "Bass p already holds all external influence in the data; set a budget to test more ads"
        ),
    }
    if not churn_from_cohorts:
        values["customers.rel_churn"] = MappedValue(
            0.0, "Bass counts adopters, who never leave; fit a cohort table to add churn"
        )
    return values


def _sbg_values(fit: SbgFit) -> dict[str, MappedValue]:
    period = round(fit.period_days)
    return {
        "population.churn_alpha": MappedValue(
            fit.alpha.value, f"sBG α = {fit.alpha} (95% interval) from {fit.n_customers:,} customers' cohorts"
        ),
        "population.churn_beta": MappedValue(
            fit.beta.value, f"sBG β = {fit.beta}; mean churn {fit.mean_churn:.1%} per period"
        ),
        "population.days_churn_period": MappedValue(period, "the cohort table's period, in days"),
    }


def _survival_match(s: float, beta_days: float, period: int) -> tuple[float, float]:
    """Beta(a, b) per ``period`` days with Pareto/NBD's survival curve.

    The Beta's survival ``B(a, b + t/period)/B(a, b)`` is matched to ``(β/(β + t))^s`` by least
    squares over three years (t in days). Exact for s = 1: (1, β/period).
    """
    t = np.linspace(0.0, 3 * 365.0, 200)
    target = (beta_days / (beta_days + t)) ** s

    def loss(x: np.ndarray) -> float:
        a, b = np.exp(x)
        curve = np.exp(betaln(a, b + t / period) - betaln(a, b))
        return float(np.sum((curve - target) ** 2))

    start = np.log([s, beta_days / period])
    best = minimize(
        loss, start, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-14, "maxiter": 4000}
    )
    a, b = np.exp(best.x)
    return float(a), float(b)


def _btyd_values(fit: BtydFit, churn_from_cohorts: bool) -> dict[str, MappedValue]:
    unit = fit.time_unit_days
    r, alpha = fit.params["r"], fit.params["alpha"]
    name = "Pareto/NBD" if fit.model == "pareto_nbd" else "BG/NBD"
    values = {
        "population.rate_purchase_per_day": MappedValue(
            fit.mean_rate_per_day,
            f"{name} r/α = {_g(r.value)}/{_g(alpha.value)} per {_days(unit)}, divided by {_g(unit)}: "
            f"the mean purchase rate while active (α 95% interval [{_g(alpha.low)}, {_g(alpha.high)}])",
        ),
        "population.purchase_rate_shape": MappedValue(
            r.value, f"{name} r = {r}: the Gamma shape of purchase rates across customers"
        ),
    }
    if not churn_from_cohorts:
        if fit.model == "pareto_nbd":
            s, beta = fit.params["s"], fit.params["beta"]
            period = 30
            a, b = _survival_match(s.value, beta.value * unit, period)
            how = "exact, since s = 1" if abs(s.value - 1) < 1e-3 else "same survival curve over 3 years"
            values["population.churn_alpha"] = MappedValue(
                a,
                f"Pareto/NBD dropout μ ~ Gamma(s = {s}, β = {_g(beta.value)}) per {_days(unit)}, "
                f"as Beta churn per period ({how})",
            )
            values["population.churn_beta"] = MappedValue(b, "with churn_alpha, the dropout of Pareto/NBD")
            values["population.days_churn_period"] = MappedValue(
                period, "a month: the period the Beta churn refers to"
            )
        else:
            a_est, b_est = fit.params["a"], fit.params["b"]
            period = max(1, round(1.0 / fit.mean_rate_per_day))
            values["population.churn_alpha"] = MappedValue(
                a_est.value, f"BG/NBD a = {a_est}: drop after a purchase ~ Beta(a, b) (approximate mapping)"
            )
            values["population.churn_beta"] = MappedValue(b_est.value, f"BG/NBD b = {b_est}")
            values["population.days_churn_period"] = MappedValue(
                period, "the mean time between purchases, α/r, in days: BG/NBD drops customers per purchase"
            )
    if fit.spend is not None and fit.spend["q"].value > 1:
        p, q, v = fit.spend["p"], fit.spend["q"], fit.spend["v"]
        mean = fit.mean_order_value
        if q.value > 2:
            sigma = min(math.sqrt(math.log1p(1.0 / (q.value - 2.0))), _SIGMA_MAX)
            cv = 1 / math.sqrt(q.value - 2)
            how = (
                f"log-normal shape with the same spread of customers' mean spend (CV = 1/√(q − 2) = {cv:.3g})"
            )
        else:
            sigma = _SIGMA_MAX
            how = "q ≤ 2 means an unbounded spread of mean spend: capped at the schema's maximum"
        values["population.order_value_mean"] = MappedValue(
            mean,
            f"Gamma-Gamma mean spend p·v/(q − 1), p = {_g(p.value)}, q = {_g(q.value)}, v = {_g(v.value)}",
        )
        values["population.order_value_sigma"] = MappedValue(sigma, how)
    return values


def scenario_values(fits: Sequence[Fit], *, people: int | None = None) -> dict[str, MappedValue]:
    """The scenario fields the fits set, by dotted path, each with its comment.

    A cohort (sBG) fit gives churn; without one, churn comes from the transaction log's dropout, and
    a Bass-only fit switches churn off. ``people`` overrides the Bass market size in people.
    """
    churn_from_cohorts = any(isinstance(fit, SbgFit) for fit in fits)
    values: dict[str, MappedValue] = {}
    for fit in fits:
        if isinstance(fit, BassFit):
            values.update(_bass_values(fit, people, churn_from_cohorts))
        elif isinstance(fit, BtydFit):
            values.update(_btyd_values(fit, churn_from_cohorts))
    for fit in fits:  # the cohort table's churn wins over any other source
        if isinstance(fit, SbgFit):
            values.update(_sbg_values(fit))
    return values


def _tidy(value: Any) -> Any:
    """Floats to 6 significant digits: the file stays readable, far inside every interval."""
    return float(f"{value:.6g}") if isinstance(value, float) else value


def _scenario_data(values: dict[str, MappedValue], base: Scenario | None, name: str) -> dict[str, Any]:
    if base is not None:
        data = base.model_dump(mode="json", exclude={"base_dir"})
    else:
        data = {"name": name, "description": "Calibrated with ripple fit from the data named below."}
    overrides = {
        path: _tidy(mapped.value) for path, mapped in values.items() if not path.startswith("network.")
    }
    if base is not None:
        overrides["name"] = name
    data = apply_overrides(data, overrides)
    if "network.kind" in values:  # a different graph kind has different fields: replace the section
        data["network"] = {"kind": values["network.kind"].value, "n": values["network.n"].value}
    return data


def fitted_scenario(
    fits: Sequence[Fit], *, base: Scenario | None = None, name: str = "fitted", people: int | None = None
) -> Scenario:
    """A validated scenario: ``base`` (or the defaults) with the fitted fields set."""
    values = scenario_values(fits, people=people)
    return scenario_from_dict(_scenario_data(values, base, name))


def scenario_yaml(
    fits: Sequence[Fit],
    *,
    base: Scenario | None = None,
    name: str = "fitted",
    sources: Sequence[str] = (),
    people: int | None = None,
) -> str:
    """The fitted scenario as YAML, with a comment on each fitted value saying where it came from.

    Without ``base`` only the fitted fields are written (the rest keep their defaults), so the file
    shows exactly what the data decided. The scenario is validated before it is written.

    Raises:
        ScenarioError: a fitted value lies outside what the scenario allows.
    """
    values = scenario_values(fits, people=people)
    data = _scenario_data(values, base, name)
    scenario_from_dict(data)  # validate: a written file must load
    if base is None:
        network = data.pop("network", None)
        ordered: dict[str, Any] = {
            key: data.pop(key) for key in ("name", "description", "days") if key in data
        }
        data = {**ordered, **({"network": network} if network else {}), **data}
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    lines = []
    section = ""
    for line in text.splitlines():
        stripped = line.strip()
        key = stripped.split(":", 1)[0]
        if not line.startswith(" "):
            section = key
            path = key
        else:
            path = f"{section}.{key}" if len(line) - len(line.lstrip()) == 2 else ""
        mapped = values.get(path)
        lines.append(f"{line}  # {mapped.comment}" if mapped is not None and ":" in stripped else line)
    header = ["# Calibrated by `ripple fit`: every commented value comes from the data."]
    header += [f"# {source}" for source in sources]
    return "\n".join([*header, *lines]) + "\n"
