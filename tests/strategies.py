"""Hypothesis strategies shared by the property tests: random but valid scenarios."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from sim.scenario import Scenario, apply_overrides, scenario_from_dict

probabilities = st.floats(0.0, 1.0, allow_nan=False)
small_rates = st.floats(0.0, 0.3, allow_nan=False)


@st.composite
def networks(draw: st.DrawFn) -> dict[str, Any]:
    """A small graph of any generated kind."""
    n = draw(st.integers(12, 150))
    kind = draw(
        st.sampled_from(["complete", "erdos_renyi", "barabasi_albert", "watts_strogatz", "communities"])
    )
    if kind == "complete":
        return {"kind": kind, "n": n}
    if kind == "erdos_renyi":
        return {"kind": kind, "n": n, "mean_degree": draw(st.floats(0.5, 6.0))}
    if kind == "barabasi_albert":
        return {"kind": kind, "n": n, "m": draw(st.integers(1, 4))}
    if kind == "watts_strogatz":
        return {"kind": kind, "n": n, "k": draw(st.sampled_from([2, 4, 6])), "p_rewire": draw(probabilities)}
    blocks = draw(st.integers(2, 4))
    return {
        "kind": kind,
        "n": n,
        "n_communities": blocks,
        "mean_degree_within": draw(st.floats(0.0, 2.0)),
        "mean_degree_between": draw(st.floats(0.5, 2.0)),
    }


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A valid scenario with every mechanism at a random intensity."""
    overrides = {
        "days": draw(st.integers(3, 25)),
        "seed": draw(st.integers(0, 2**32)),
        "population.share_initial_customers": draw(st.floats(0.0, 0.5)),
        "population.rate_purchase_per_day": draw(small_rates),
        "population.churn_alpha": draw(st.floats(0.2, 3.0)),
        "population.churn_beta": draw(st.floats(0.2, 3.0)),
        "population.days_churn_period": draw(st.integers(5, 365)),
        "customers.p_good_experience": draw(probabilities),
        "customers.rel_winback": draw(probabilities),
        "organic.rate_per_day": draw(small_rates),
        "ads.daily_budget": draw(st.floats(0.0, 50.0)),
        "ads.cpm": draw(st.floats(0.5, 20.0)),
        "ads.target": draw(st.sampled_from(["everyone", "prospects"])),
        "ads.funnel": draw(st.sampled_from(["three_stage", "one_stage"])),
        "ads.p_aware": draw(probabilities),
        "ads.p_consider": draw(probabilities),
        "ads.p_purchase": draw(probabilities),
        "ads.frequency_cap": draw(st.none() | st.integers(1, 5)),
        "ads.days_frequency_window": draw(st.integers(1, 10)),
        "ads.wearout_half_life_exposures": draw(st.none() | st.floats(0.5, 5.0)),
        "sharing.rate_share_per_day": draw(st.floats(0.0, 2.0)),
        "sharing.p_convert": draw(probabilities),
        "sharing.normalisation": draw(st.sampled_from(["fraction", "count"])),
        "sharing.reward_per_referral": draw(st.floats(0.0, 20.0)),
    }
    data = apply_overrides({"network": draw(networks())}, overrides)
    return scenario_from_dict(data)
