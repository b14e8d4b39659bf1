"""The rule registry: every mechanism of the market, in the order the model runs them.

Adding a rule: write one module with a :class:`~sim.rules.base.Rule` subclass, add it to
``REGISTRY`` below, and the contract test (``tests/test_rule_contract.py``) checks it.
"""

from __future__ import annotations

from sim.rules.ads import Ads
from sim.rules.base import ACQUISITION_COLUMNS, Phase, Rule
from sim.rules.churn import Churn
from sim.rules.defences import Defences
from sim.rules.field_team import FieldTeam
from sim.rules.fraud import Fraud
from sim.rules.incentives import Incentives
from sim.rules.loyalty import Loyalty
from sim.rules.organic import Organic
from sim.rules.purchases import Purchases
from sim.rules.retention import RetentionOffers, Winback
from sim.rules.rival import Rival, RivalAds
from sim.rules.roles import RoleSharing, Seeding
from sim.rules.sharing import Sharing

__all__ = ["ACQUISITION_COLUMNS", "REGISTRY", "Phase", "Rule", "ordered_rules"]

#: Every rule, in registry order (ties within a phase run in this order).
REGISTRY: tuple[type[Rule], ...] = (
    Ads,
    Organic,
    Seeding,
    FieldTeam,
    Sharing,
    RoleSharing,
    Purchases,
    Loyalty,
    RetentionOffers,
    Winback,
    Churn,
    Fraud,
    Incentives,
    Defences,
    RivalAds,
    Rival,
)


def ordered_rules() -> list[type[Rule]]:
    """Registered rules sorted by phase, keeping registry order within a phase."""
    return sorted(REGISTRY, key=lambda rule: rule.phase)
