"""The scenario: everything a user can set, validated once on load.

A scenario file is YAML. It has a *market* (``network``, ``population``, ``customers``,
``economics``, ``organic``), which strategies compared side by side share, and a *strategy*
(``ads``, ``sharing``), which they vary. Every field carries its unit in its description; the app's
editor and the docs read them from here, so nothing is described twice.

Naming follows ``docs/metrics.md``: ``p_`` is a probability per event or per day, ``rate_`` a rate
per day, ``rel_`` a multiplier where 1.0 is neutral, ``days_`` a duration and ``share_`` a share of
a population in [0, 1]. Money is in the scenario's ``economics.currency``.

Errors: :func:`load_scenario` and :func:`validate_scenario` raise :class:`ScenarioError`, which holds
one :class:`Problem` per bad value (field path, what is allowed, what was given).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from sim.spec import Probability, Section
from sim.specs_incentives import DefencesSpec, FraudSpec, IncentivesSpec
from sim.specs_levers import (
    FieldTeamSpec,
    HabitSpec,
    LoyaltySpec,
    RetentionOffersSpec,
    RolesSpec,
    SeedingSpec,
    WinbackSpec,
    check_lever_sections,
)

__all__ = [
    "MARKET_SECTIONS",
    "STRATEGY_SECTIONS",
    "AdsSpec",
    "CustomersSpec",
    "EconomicsSpec",
    "EdgeListSpec",
    "NetworkSpec",
    "OrganicSpec",
    "PopulationSpec",
    "Problem",
    "Scenario",
    "ScenarioError",
    "SharingSpec",
    "apply_overrides",
    "load_scenario",
    "parse_override",
    "parse_yaml",
    "scenario_from_dict",
    "scenario_to_yaml",
]

#: Sections that describe the simulated market (the presets share all of them).
MARKET_SECTIONS: tuple[str, ...] = ("network", "population", "customers", "economics", "organic", "fraud")
#: Sections a strategy may change.
STRATEGY_SECTIONS: tuple[str, ...] = (
    "ads",
    "sharing",
    # issue #3: the referral programme and the defences against fraud
    "incentives",
    "defences",
    # issue #4: retention levers, the ripple's layers and the field team
    "habit",
    "retention_offers",
    "winback",
    "roles",
    "seeding",
    "field_team",
    "loyalty",
)

#: Largest scenario file accepted, in bytes: a scenario is a few kilobytes; anything far larger is
#: not a scenario and is refused before parsing.
MAX_SCENARIO_BYTES = 1_000_000


# --------------------------------------------------------------------------------------- network


class _GraphBase(Section):
    n: int = Field(
        10_000, ge=2, le=20_000_000, description="Number of people in the market (nodes of the graph)."
    )


class CompleteGraphSpec(_GraphBase):
    """Everyone knows everyone: the Bass model's mixing assumption (science.md §1)."""

    kind: Literal["complete"] = "complete"


class ErdosRenyiSpec(_GraphBase):
    """Random graph: each pair is linked independently, so degrees are nearly Poisson."""

    kind: Literal["erdos_renyi"] = "erdos_renyi"
    mean_degree: float = Field(10.0, gt=0.0, description="Mean number of friends per person.")

    @model_validator(mode="after")
    def _fits(self) -> ErdosRenyiSpec:
        if self.mean_degree > self.n - 1:
            raise ValueError(
                f"mean_degree must be at most n - 1 = {self.n - 1} (a simple graph on {self.n} "
                f"people cannot hold more edges); got {self.mean_degree}"
            )
        return self


class BarabasiAlbertSpec(_GraphBase):
    """Preferential attachment: a scale-free graph with hubs (mean degree ≈ 2m)."""

    kind: Literal["barabasi_albert"] = "barabasi_albert"
    m: int = Field(5, ge=1, description="Edges each newcomer attaches to existing people.")

    @model_validator(mode="after")
    def _fits(self) -> BarabasiAlbertSpec:
        if self.m >= self.n:
            raise ValueError(f"m must be less than n = {self.n}; got {self.m}")
        return self


class WattsStrogatzSpec(_GraphBase):
    """Small world: a ring lattice whose edges are rewired at random with probability p_rewire."""

    kind: Literal["watts_strogatz"] = "watts_strogatz"
    k: int = Field(10, ge=2, description="Each person's neighbours on the ring before rewiring (even).")
    p_rewire: Probability = Field(0.1, description="Probability that each lattice edge is rewired.")

    @model_validator(mode="after")
    def _fits(self) -> WattsStrogatzSpec:
        if self.k % 2:
            raise ValueError(f"k must be even (k/2 neighbours on each side); got {self.k}")
        if self.k >= self.n:
            raise ValueError(f"k must be less than n = {self.n}; got {self.k}")
        return self


class CommunitySpec(_GraphBase):
    """Stochastic block model: equal communities, dense inside and thin between (cities, schools)."""

    kind: Literal["communities"] = "communities"
    n_communities: int = Field(10, ge=1, description="Number of equal-sized communities.")
    mean_degree_within: float = Field(
        8.0, ge=0.0, description="Mean friends per person inside their own community."
    )
    mean_degree_between: float = Field(
        2.0, ge=0.0, description="Mean friends per person in other communities."
    )

    @model_validator(mode="after")
    def _fits(self) -> CommunitySpec:
        if self.n_communities > self.n:
            raise ValueError(f"n_communities must be at most n = {self.n}; got {self.n_communities}")
        size = self.n // self.n_communities
        if self.mean_degree_within > size - 1:
            raise ValueError(
                f"mean_degree_within must be at most community size - 1 = {size - 1}; "
                f"got {self.mean_degree_within}"
            )
        if self.mean_degree_between > self.n - size:
            raise ValueError(
                f"mean_degree_between must be at most n - community size = {self.n - size}; "
                f"got {self.mean_degree_between}"
            )
        if self.mean_degree_within + self.mean_degree_between <= 0:
            raise ValueError("mean_degree_within + mean_degree_between must be > 0; got 0")
        return self


class EdgeListSpec(_GraphBase):
    """An imported edge list: one ``u v`` or ``u,v`` pair of integer ids in [0, n) per line.

    Blank lines and lines starting with ``#`` are skipped. A relative path is resolved against the
    scenario file's folder.
    """

    kind: Literal["edge_list"] = "edge_list"
    path: str = Field(..., min_length=1, description="Path of the edge-list file (CSV or whitespace).")


NetworkSpec = Annotated[
    CompleteGraphSpec
    | ErdosRenyiSpec
    | BarabasiAlbertSpec
    | WattsStrogatzSpec
    | CommunitySpec
    | EdgeListSpec,
    Field(discriminator="kind"),
]
#: Graph kinds, read off the specs so the list is written once.
_GRAPH_KINDS: tuple[str, ...] = tuple(
    spec.model_fields["kind"].default
    for spec in (
        CompleteGraphSpec,
        ErdosRenyiSpec,
        BarabasiAlbertSpec,
        WattsStrogatzSpec,
        CommunitySpec,
        EdgeListSpec,
    )
)


# ------------------------------------------------------------------------------------ population


class PopulationSpec(Section):
    """Who the people are: drawn once per world, shared by every strategy run on it."""

    order_value_mean: float = Field(
        40.0, gt=0.0, description="Mean order value across people (currency per order)."
    )
    order_value_sigma: float = Field(
        1.0,
        ge=0.0,
        le=4.0,
        description=(
            "Log-normal shape of each person's typical order value; 1.0 puts most revenue in the top "
            "20% of customers (mission.md §6)."
        ),
    )
    rate_purchase_per_day: float = Field(
        0.033, ge=0.0, le=5.0, description="Mean orders per active customer per day (0.033 ≈ monthly)."
    )
    purchase_rate_shape: float = Field(
        2.0,
        gt=0.0,
        description="Gamma shape of purchase frequency across people; smaller means more unequal.",
    )
    churn_alpha: float = Field(
        0.704, gt=0.0, description="Beta(α, β) α of per-period churn probability (Fader & Hardie)."
    )
    churn_beta: float = Field(
        1.182, gt=0.0, description="Beta(α, β) β of per-period churn probability (Fader & Hardie)."
    )
    days_churn_period: int = Field(
        365, ge=1, description="Length of the period the churn probability refers to (days)."
    )
    share_initial_customers: Probability = Field(
        0.0, description="Share of the population who are customers on day 0 (chosen at random)."
    )


class CustomersSpec(Section):
    """What happens once someone buys: experiences, churn and win-back."""

    p_good_experience: Probability = Field(
        0.9, description="Probability that an order is a good experience (else a bad one)."
    )
    rel_churn_per_bad_experience: float = Field(
        1.25,
        ge=1.0,
        le=10.0,
        description="Multiplier on a customer's churn hazard for each bad experience so far.",
    )
    rel_churn: float = Field(
        1.0,
        ge=0.0,
        le=100.0,
        description="Multiplier on every customer's churn hazard (0 = nobody churns).",
    )
    rel_winback: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Multiplier on conversion probabilities for people who churned before.",
    )


class EconomicsSpec(Section):
    """Money: the currency every amount is in, margins and discounting."""

    currency: str = Field("USD", min_length=1, max_length=12, description="Currency unit for money.")
    gross_margin: Probability = Field(
        0.35, description="Gross margin as a share of revenue (before marketing spend)."
    )
    annual_discount_rate: float = Field(
        0.10, ge=0.0, le=1.0, description="Discount rate per year, for lifetime value."
    )


class OrganicSpec(Section):
    """Adoption from outside the graph and outside paid media (search, offline word of mouth)."""

    rate_per_day: float = Field(
        0.0002, ge=0.0, le=1.0, description="Hazard per person per day of adopting on their own."
    )


# ------------------------------------------------------------------------------------- strategy


class AdsSpec(Section):
    """The funnel: a daily budget buys impressions at a CPM; impressions move people down stages."""

    daily_budget: float = Field(100.0, ge=0.0, description="Ad spend per day (currency per day).")
    cpm: float = Field(
        8.0, gt=0.0, description="Cost per thousand impressions (currency); Meta ≈ 6-15, display ≈ 0.5-5."
    )
    target: Literal["everyone", "prospects"] = Field(
        "prospects",
        description="Who is shown ads: everyone, or only people who are not active customers.",
    )
    target_community: int | None = Field(
        None, ge=0, description="Show ads only inside this community (communities graph only)."
    )
    funnel: Literal["three_stage", "one_stage"] = Field(
        "three_stage",
        description=(
            "three_stage: unaware → aware → considering → customer; one_stage: an impression "
            "converts directly (the Bass limit)."
        ),
    )
    p_aware: Probability = Field(0.05, description="Unaware → aware, per effective impression.")
    p_consider: Probability = Field(0.02, description="Aware → considering, per effective impression.")
    p_purchase: Probability = Field(
        0.025, description="Considering → customer (or any → customer in one_stage), per impression."
    )
    frequency_cap: int | None = Field(
        3, ge=1, description="Most impressions one person is shown per window; none = no cap."
    )
    days_frequency_window: int = Field(
        7, ge=1, le=366, description="Rolling window of the cap and wear-out (days)."
    )
    wearout_half_life_exposures: float | None = Field(
        2.0,
        gt=0.0,
        description=(
            "Exposures within the rolling window after which an impression's effect halves (the k-th "
            "counts 0.5^((k-1)/h)); attention halves by about the 3rd exposure; none = no wear-out."
        ),
    )


class SharingSpec(Section):
    """The ripple: active customers pass the brand to their friends."""

    rate_share_per_day: float = Field(
        0.03, ge=0.0, le=50.0, description="Shares each active customer makes per day."
    )
    p_convert: Probability = Field(
        0.08, description="Probability a share converts a non-customer (trust: above an impression's)."
    )
    normalisation: Literal["fraction", "count"] = Field(
        "fraction",
        description=(
            "fraction: a person's pressure is the share of *their own* friends who are customers "
            "(Rand & Rust); count: the number of customer friends over the mean degree (hubs adopt "
            "early)."
        ),
    )
    reward_per_referral: float = Field(
        0.0, ge=0.0, description="Paid to the referrer per converted share (currency per referral)."
    )


# ------------------------------------------------------------------------------------- scenario


class Scenario(Section):
    """A full scenario: the market plus one strategy, a horizon and a seed."""

    name: str = Field("scenario", min_length=1, max_length=80, description="Short name of the strategy.")
    description: str = Field("", max_length=2000, description="What this scenario is for.")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="The one seed every random stream derives from.")
    days: int = Field(365, ge=1, le=36_500, description="Horizon (days).")
    network: NetworkSpec = Field(default_factory=BarabasiAlbertSpec)
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    customers: CustomersSpec = Field(default_factory=CustomersSpec)
    economics: EconomicsSpec = Field(default_factory=EconomicsSpec)
    organic: OrganicSpec = Field(default_factory=OrganicSpec)
    ads: AdsSpec = Field(default_factory=AdsSpec)
    sharing: SharingSpec = Field(default_factory=SharingSpec)
    fraud: FraudSpec = Field(default_factory=FraudSpec)
    incentives: IncentivesSpec = Field(default_factory=IncentivesSpec)
    defences: DefencesSpec = Field(default_factory=DefencesSpec)
    # issue #4 (sections in sim/specs_levers.py)
    habit: HabitSpec = Field(default_factory=HabitSpec)
    retention_offers: RetentionOffersSpec = Field(default_factory=RetentionOffersSpec)
    winback: WinbackSpec = Field(default_factory=WinbackSpec)
    roles: RolesSpec = Field(default_factory=RolesSpec)
    seeding: SeedingSpec = Field(default_factory=SeedingSpec)
    field_team: FieldTeamSpec = Field(default_factory=FieldTeamSpec)
    loyalty: LoyaltySpec = Field(default_factory=LoyaltySpec)

    #: Folder that relative paths inside the scenario (edge lists) are resolved against.
    base_dir: str | None = Field(None, exclude=True, description="Set by the loader; not in files.")

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        target = self.ads.target_community
        if target is not None:
            if not isinstance(self.network, CommunitySpec):
                raise ValueError(
                    "ads.target_community needs network.kind = communities; "
                    f"got network.kind = {self.network.kind}"
                )
            if target >= self.network.n_communities:
                raise ValueError(
                    f"ads.target_community must be in [0, {self.network.n_communities - 1}]; got {target}"
                )
        if self.fraud.n_attackers > 0 and self.network.kind == "complete":
            raise ValueError(
                "fraud.n_attackers > 0 needs a sparse network (fake accounts are linked into it); "
                f"got network.kind = {self.network.kind}"
            )
        if self.fraud.n_attackers > self.network.n:
            raise ValueError(
                f"fraud.n_attackers must be at most network.n = {self.network.n} (each attacker is a real "
                f"account); got {self.fraud.n_attackers}"
            )
        check_lever_sections(self)
        return self

    def market(self) -> dict[str, Any]:
        """The market sections as plain data (what strategies in a comparison must share)."""
        dumped = self.model_dump(mode="json")
        return {key: dumped[key] for key in MARKET_SECTIONS}

    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """A copy with dotted-path overrides applied and validated (``{"ads.cpm": 5}``)."""
        data = apply_overrides(self.model_dump(mode="json"), overrides)
        return scenario_from_dict(data, base_dir=self.base_dir)


# ------------------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One invalid value: where it is, what is allowed, and what was given."""

    path: str
    allowed: str
    given: str

    def __str__(self) -> str:
        where = self.path or "(scenario)"
        if self.given:
            return f"{where}: {self.allowed}; got {self.given}"
        return f"{where}: {self.allowed}"


class ScenarioError(ValueError):
    """A scenario could not be loaded; ``problems`` lists every bad value, one per line."""

    def __init__(self, problems: Iterable[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{head}{len(self.problems)} problem(s)\n{lines}")


def _given(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _allowed_from(error: Mapping[str, Any]) -> str:
    """Turn one pydantic error into a 'must be …' sentence (scikit-learn style)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    messages = {
        "greater_than_equal": lambda: f"must be ≥ {ctx.get('ge')}",
        "greater_than": lambda: f"must be > {ctx.get('gt')}",
        "less_than_equal": lambda: f"must be ≤ {ctx.get('le')}",
        "less_than": lambda: f"must be < {ctx.get('lt')}",
        "extra_forbidden": lambda: "unknown key (check the spelling; see docs/scenarios.md)",
        "missing": lambda: "is required",
        "int_parsing": lambda: "must be a whole number",
        "int_from_float": lambda: "must be a whole number",
        "int_type": lambda: "must be a whole number",
        "float_parsing": lambda: "must be a number",
        "float_type": lambda: "must be a number",
        "finite_number": lambda: "must be a finite number",
        "string_type": lambda: "must be text",
        "string_too_short": lambda: f"must have at least {ctx.get('min_length')} character(s)",
        "string_too_long": lambda: f"must have at most {ctx.get('max_length')} characters",
        "bool_parsing": lambda: "must be true or false",
        "literal_error": lambda: f"must be one of {ctx.get('expected')}",
        "union_tag_invalid": lambda: f"kind must be one of {ctx.get('expected_tags')}",
        "union_tag_not_found": lambda: f"needs a 'kind' ({', '.join(_GRAPH_KINDS)})",
        "model_type": lambda: "must be a mapping of keys to values",
        "dict_type": lambda: "must be a mapping of keys to values",
    }
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return messages.get(kind, lambda: str(error["msg"]).lower())()


def _problems_from(exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        # A discriminated union puts the chosen tag in the location; users never typed it.
        parts = [str(p) for p in error["loc"] if not (isinstance(p, str) and p in _GRAPH_KINDS)]
        path = ".".join(parts)
        allowed = _allowed_from(error)
        given = "" if error["type"] in ("missing", "extra_forbidden") else _given(error.get("input"))
        if error["type"] == "value_error":
            # Our own validators already say what was given; their message names the fields.
            given = ""
        problems.append(Problem(path=path, allowed=allowed, given=given))
    return problems


# ---------------------------------------------------------------------------------- load & dump


def scenario_from_dict(
    data: Any, *, base_dir: str | Path | None = None, source: str | None = None
) -> Scenario:
    """Validate plain data (from YAML, the app or a sweep) into a :class:`Scenario`."""
    if not isinstance(data, Mapping):
        raise ScenarioError(
            [Problem("", "a scenario must be a mapping of sections (network:, ads:, …)", _given(data))],
            source,
        )
    if "base_dir" in data:
        raise ScenarioError([Problem("base_dir", "unknown key (set by the loader)", "")], source)
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(_problems_from(exc), source) from None
    if base_dir is not None:
        scenario.base_dir = str(base_dir)
    return scenario


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | Iterable[str] | None = None) -> Scenario:
    """Load and validate a scenario file (YAML), applying dotted-path overrides first.

    ``overrides`` is either a mapping ``{"ads.daily_budget": 0}`` or CLI strings
    ``["ads.daily_budget=0"]``. Raises :class:`ScenarioError` listing every problem.
    """
    file = Path(path)
    source = str(path)
    if not file.is_file():
        raise ScenarioError([Problem("", "the scenario file must exist", source)], source)
    if file.stat().st_size > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            [Problem("", f"a scenario file must be at most {MAX_SCENARIO_BYTES} bytes", source)],
            source,
        )
    return scenario_from_text(file.read_bytes(), overrides, base_dir=file.parent, source=source)


def parse_yaml(text: str | bytes, source: str | None = None) -> Any:
    """Parse YAML text, turning a syntax or encoding error into a :class:`ScenarioError` with its line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "file"
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([Problem(where, "must be valid YAML", str(reason))], source) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem("", "must be UTF-8 text", "binary data")], source) from None


def scenario_from_text(
    text: str | bytes,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    *,
    base_dir: str | Path | None = None,
    source: str | None = None,
) -> Scenario:
    """Parse YAML text (a file's content, an upload) and validate it."""
    if len(text) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            [Problem("", f"a scenario must be at most {MAX_SCENARIO_BYTES} bytes", f"{len(text)} bytes")],
            source,
        )
    data = parse_yaml(text, source)
    if data is None:
        data = {}
    if overrides:
        pairs = _override_pairs(overrides)
        if isinstance(data, Mapping):
            data = apply_overrides(dict(data), pairs)
    return scenario_from_dict(data, base_dir=base_dir, source=source)


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``"ads.daily_budget=500"`` into ``("ads.daily_budget", 500)`` (value parsed as YAML)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError([Problem("--set", "must look like section.field=value", _given(text))])
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def _override_pairs(overrides: Mapping[str, Any] | Iterable[str]) -> dict[str, Any]:
    if isinstance(overrides, Mapping):
        return dict(overrides)
    return dict(parse_override(text) for text in overrides)


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``data`` with each dotted path set (``network.n`` → ``data["network"]["n"]``).

    A missing intermediate section is created, so validation reports an unknown key by its full path.
    """
    result = _deep_copy(data)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return result


def _deep_copy(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {key: _deep_copy(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_deep_copy(value) for value in data]
    return data


def scenario_to_yaml(scenario: Scenario) -> str:
    """The scenario as a YAML document that :func:`load_scenario` reads back to an equal scenario."""
    data = scenario.model_dump(mode="json", exclude={"base_dir"})
    network = data["network"]
    data["network"] = {"kind": network.pop("kind"), **network}  # the kind reads best first
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
