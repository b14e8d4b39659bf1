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
    # The frequency cap leaves little room for more impressions, so the gain (about 6 of ~10 ad
    # customers) is small against its spread (SD ≈ 5.5 per pair): 12 replications pin it down.
    mean, low, _ = paired("new_customers_ads", base, richer, replications=12)
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


def test_a_larger_referral_reward_brings_more_referrals_and_beyond_a_point_less_profit():
    # The referral programme's reward changes behaviour (its documented response), not only cost.
    base = hybrid(**{"incentives.amount_referrer": 0.0})
    paying = base.with_overrides({"incentives.amount_referrer": 10.0})
    mean, low, _ = paired("new_customers_sharing", base, paying)
    assert mean > 0 and low > 0
    # The uplift saturates while the cost per referral keeps growing: a huge reward loses money.
    lavish = base.with_overrides({"incentives.amount_referrer": 150.0})
    mean, _, high = paired("profit", paying, lavish)
    assert mean < 0 and high < 0


def test_a_shorter_sharing_half_life_brings_fewer_referred_customers():
    base = hybrid()
    fading = base.with_overrides({"sharing.days_share_half_life": base.sharing.days_share_half_life / 3})
    mean, _, high = paired("new_customers_sharing", base, fading)
    assert mean < 0 and high < 0
