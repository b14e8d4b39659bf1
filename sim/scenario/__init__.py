"""The scenario: everything a user can set, validated once on load.

A scenario file is YAML. It has a *market* (:data:`MARKET_SECTIONS`: the graph, the people, what
happens after a purchase, money, discovery, the fraud attack, the rival brand), which strategies
compared side by side share, and a *strategy* (:data:`STRATEGY_SECTIONS`: ads, sharing, the referral
programme, defences, retention levers, roles, seeding, field team, loyalty), which they vary. Every field
carries its unit in its description; the app's editor and the docs read them from here, so nothing
is described twice.

Naming follows ``docs/metrics.md``: ``p_`` is a probability per event or per day, ``rate_`` a rate
per day, ``rel_`` a multiplier where 1.0 is neutral, ``days_`` a duration and ``share_`` a share of
a population in [0, 1]. Money is in the scenario's ``economics.currency``.

The package is a tree: :mod:`~sim.scenario.section` (the base) ← one module per family of sections
(:mod:`~sim.scenario.market`, :mod:`~sim.scenario.channels`, :mod:`~sim.scenario.incentives`,
:mod:`~sim.scenario.retention`, :mod:`~sim.scenario.competition`; with :mod:`~sim.scenario.schedule`,
numbers or schedules over time) ← :mod:`~sim.scenario.root` (the :class:`Scenario` and its
cross-section checks) ← :mod:`~sim.scenario.loading` (YAML in and out) ← :mod:`~sim.scenario.docs`
(renders ``docs/scenarios.md``). Errors (:mod:`~sim.scenario.errors`) and dotted-path overrides
(:mod:`~sim.scenario.overrides`) stand beside the root.

Errors: :func:`load_scenario`, :func:`scenario_from_text` and :func:`scenario_from_dict` raise
:class:`ScenarioError`, which holds one :class:`Problem` per bad value (field path, what is allowed,
what was given).
"""

from sim.scenario.channels import AdChannelSpec, AdsSpec, FieldTeamSpec, RolesSpec, SeedingSpec, SharingSpec
from sim.scenario.competition import RivalSpec
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.incentives import DefencesSpec, FraudSpec, IncentivesSpec
from sim.scenario.loading import (
    MAX_SCENARIO_BYTES,
    load_scenario,
    parse_yaml,
    scenario_from_text,
    scenario_to_yaml,
)
from sim.scenario.market import (
    GRAPH_FORMATS,
    GRAPH_KINDS,
    MAX_PEOPLE,
    MIN_PEOPLE,
    BarabasiAlbertSpec,
    CommunitySpec,
    CompleteGraphSpec,
    CustomersSpec,
    EconomicsSpec,
    EdgeListSpec,
    ErdosRenyiSpec,
    NetworkSpec,
    OrganicSpec,
    PopulationSpec,
    WattsStrogatzSpec,
)
from sim.scenario.overrides import apply_overrides, parse_override
from sim.scenario.retention import HabitSpec, LoyaltySpec, RetentionOffersSpec, TierSpec, WinbackSpec
from sim.scenario.root import MARKET_SECTIONS, STRATEGY_SECTIONS, Scenario, scenario_from_dict
from sim.scenario.schedule import Schedule, SchedulePeriod, SeasonalRange, daily_values, horizon_total
from sim.scenario.section import Probability, Section, Share

__all__ = [
    "GRAPH_FORMATS",
    "GRAPH_KINDS",
    "MARKET_SECTIONS",
    "MAX_PEOPLE",
    "MAX_SCENARIO_BYTES",
    "MIN_PEOPLE",
    "STRATEGY_SECTIONS",
    "AdChannelSpec",
    "AdsSpec",
    "BarabasiAlbertSpec",
    "CommunitySpec",
    "CompleteGraphSpec",
    "CustomersSpec",
    "DefencesSpec",
    "EconomicsSpec",
    "EdgeListSpec",
    "ErdosRenyiSpec",
    "FieldTeamSpec",
    "FraudSpec",
    "HabitSpec",
    "IncentivesSpec",
    "LoyaltySpec",
    "NetworkSpec",
    "OrganicSpec",
    "PopulationSpec",
    "Probability",
    "Problem",
    "RetentionOffersSpec",
    "RivalSpec",
    "RolesSpec",
    "Scenario",
    "ScenarioError",
    "Schedule",
    "SchedulePeriod",
    "SeasonalRange",
    "Section",
    "SeedingSpec",
    "Share",
    "SharingSpec",
    "TierSpec",
    "WattsStrogatzSpec",
    "WinbackSpec",
    "apply_overrides",
    "daily_values",
    "horizon_total",
    "load_scenario",
    "parse_override",
    "parse_yaml",
    "scenario_from_dict",
    "scenario_from_text",
    "scenario_to_yaml",
]
