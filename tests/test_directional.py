"""Raise one parameter and the effect moves the right way, on common random numbers.

Each test compares two strategies with :func:`sim.compare` (same worlds, same random streams) and
asserts that the paired difference's 95% interval lies on the expected side of zero.
"""

from __future__ import annotations

from sim import compare, load_scenario
from tests.conftest import SCENARIOS


def paired(metric: str, base, changed, replications: int = 6):
    result = compare({"base": base, "changed": changed}, replications=replications, seed=3)
    row = result.paired.set_index("metric").loc[metric]
    return row["mean_diff"], row["ci_low"], row["ci_high"]


def hybrid(**overrides):
    return load_scenario(SCENARIOS / "hybrid.yaml", {"network.n": 3000, "days": 150, **overrides})


def test_more_ad_budget_acquires_more_customers_through_ads():
    base = hybrid()
    richer = base.with_overrides({"ads.daily_budget": base.ads.daily_budget * 3})
    mean, low, _ = paired("new_customers_ads", base, richer)
    assert mean > 0 and low > 0


def test_a_higher_share_rate_brings_more_referred_customers():
    base = hybrid()
    chattier = base.with_overrides({"sharing.rate_share_per_day": base.sharing.rate_share_per_day * 2})
    mean, low, _ = paired("new_customers_sharing", base, chattier)
    assert mean > 0 and low > 0


def test_higher_churn_lowers_retention():
    base = hybrid()
    leakier = base.with_overrides({"customers.rel_churn": 2.0})
    mean, _, high = paired("retention_90d", base, leakier)
    assert mean < 0 and high < 0


def test_a_referral_reward_costs_exactly_its_referrals():
    base = hybrid(**{"sharing.reward_per_referral": 0.0})
    paying = base.with_overrides({"sharing.reward_per_referral": 7.0})
    result = compare({"base": base, "paying": paying}, replications=3, seed=4)
    runs = result.runs.set_index(["strategy", "replication"])
    for replication in range(3):
        # Same random numbers and no behavioural response to the reward: same referrals.
        assert (
            runs.loc[("base", replication), "new_customers_sharing"]
            == runs.loc[("paying", replication), "new_customers_sharing"]
        )
    spend = result.paired.set_index("metric").loc["marketing_spend", "mean_diff"]
    steps = result.steps[result.steps["strategy"] == "paying"]
    referred = (steps["new_sharing"] + steps["won_back_sharing"]).sum() / 3
    assert abs(spend - 7.0 * referred) < 1e-6
