"""The root of a scenario: the market plus one strategy, a horizon and a seed, with cross-section checks.

:func:`scenario_from_dict` is the one place plain data (from YAML, the app or a sweep) becomes a
validated :class:`Scenario`; every way of loading a scenario ends here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from sim.scenario.channels import AdsSpec, FieldTeamSpec, RolesSpec, SeedingSpec, SharingSpec
from sim.scenario.competition import RivalSpec
from sim.scenario.errors import Problem, ScenarioError, given_text, problems_from
from sim.scenario.incentives import DefencesSpec, FraudSpec, IncentivesSpec
from sim.scenario.market import (
    BarabasiAlbertSpec,
    CommunitySpec,
    CustomersSpec,
    EconomicsSpec,
    NetworkSpec,
    OrganicSpec,
    PopulationSpec,
)
from sim.scenario.overrides import apply_overrides
from sim.scenario.retention import HabitSpec, LoyaltySpec, RetentionOffersSpec, WinbackSpec
from sim.scenario.section import Section

__all__ = ["MARKET_SECTIONS", "STRATEGY_SECTIONS", "Scenario", "scenario_from_dict"]

#: Sections that describe the simulated market (the presets share all of them).
MARKET_SECTIONS: tuple[str, ...] = (
    "network",
    "population",
    "customers",
    "economics",
    "organic",
    "fraud",
    "rival",
)
#: Sections a strategy may change.
STRATEGY_SECTIONS: tuple[str, ...] = (
    "ads",
    "sharing",
    # the referral programme and the defences against fraud
    "incentives",
    "defences",
    # retention levers, the ripple's layers and the field team
    "habit",
    "retention_offers",
    "winback",
    "roles",
    "seeding",
    "field_team",
    "loyalty",
)


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
    habit: HabitSpec = Field(default_factory=HabitSpec)
    retention_offers: RetentionOffersSpec = Field(default_factory=RetentionOffersSpec)
    winback: WinbackSpec = Field(default_factory=WinbackSpec)
    roles: RolesSpec = Field(default_factory=RolesSpec)
    seeding: SeedingSpec = Field(default_factory=SeedingSpec)
    field_team: FieldTeamSpec = Field(default_factory=FieldTeamSpec)
    loyalty: LoyaltySpec = Field(default_factory=LoyaltySpec)
    rival: RivalSpec = Field(default_factory=RivalSpec)

    #: Folder that relative paths inside the scenario (edge lists) are resolved against.
    base_dir: str | None = Field(None, exclude=True, description="Set by the loader; not in files.")
    #: Files uploaded with the scenario (the sandbox of an upload); None for a scenario on disk.
    _attachments: Mapping[str, bytes] | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _default_network_kind(cls, data: Any) -> Any:
        """A ``network`` section without a ``kind`` whose keys the default kind has is of that kind.

        So ``--set network.n=2000`` works on a file that leaves the section out (the default
        graph with 2,000 people); a section with other kinds' keys still has to say its kind.
        """
        if not isinstance(data, Mapping):
            return data
        network = data.get("network")
        if not isinstance(network, Mapping) or "kind" in network:
            return data
        default = BarabasiAlbertSpec()
        if all(isinstance(key, str) and key in type(default).model_fields for key in network):
            return {**data, "network": {"kind": default.kind, **network}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        for where, ads in (("ads", self.ads), ("rival.ads", self.rival.ads)):
            _check_target_communities(self, where, ads)
        if self.fraud.n_attackers > 0 and self.network.kind == "complete":
            raise ValueError(
                "fraud.n_attackers > 0 needs a sparse network (fake accounts are linked into it); "
                f"got network.kind = {self.network.kind}"
            )
        n = self.network.n
        if n is not None:  # a graph file's people are counted when it is read (check_people)
            problems = _people_problems(self, n, f"network.n = {n}")
            if problems:
                raise ValueError(problems[0][1])
        _check_communities_and_ids(self)
        return self

    @property
    def attachments(self) -> Mapping[str, bytes] | None:
        """The files uploaded with this scenario, ``{file name: content}``, or None (files on disk).

        A scenario with attachments is sandboxed: ``network.path`` must name one of them, and nothing
        is read from disk (see :func:`scenario_from_dict`).
        """
        return self._attachments

    def check_people(self, n: int, where: str) -> None:
        """Check the settings that depend on the number of people against a graph file's ``n``.

        ``network.n`` may be left out for a graph file, so these checks wait until the file is read.
        ``where`` names the file in messages. Raises :class:`ScenarioError`.
        """
        problems = _people_problems(self, n, f"the {n:,} people in {where}")
        if problems:
            raise ScenarioError([Problem(path, message, "") for path, message in problems], where)

    def market(self) -> dict[str, Any]:
        """The market sections as plain data (what strategies in a comparison must share)."""
        dumped = self.model_dump(mode="json")
        return {key: dumped[key] for key in MARKET_SECTIONS}

    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """A copy with dotted-path overrides applied and validated (``{"ads.cpm": 5}``)."""
        data = apply_overrides(self.model_dump(mode="json"), overrides)
        return scenario_from_dict(data, base_dir=self.base_dir, attachments=self._attachments)


def _check_target_communities(scenario: Scenario, where: str, ads: AdsSpec) -> None:
    """Every channel's ``target_community`` exists in a communities network (``where``: the section)."""
    for index, channel in enumerate(ads.all_channels()):
        target = channel.target_community
        if target is None:
            continue
        path = f"{where}.target_community" if index == 0 else f"{where}.channels.{index - 1}.target_community"
        if not isinstance(scenario.network, CommunitySpec):
            raise ValueError(
                f"{path} needs network.kind = communities; got network.kind = {scenario.network.kind}"
            )
        if target >= scenario.network.n_communities:
            raise ValueError(f"{path} must be in [0, {scenario.network.n_communities - 1}]; got {target}")


def _check_communities_and_ids(scenario: Scenario) -> None:
    """Communities and node ids named by the seeding, field-team and roles sections exist in the network.

    Raises:
        ValueError: naming the field, the allowed range and the bad value.
    """
    network = scenario.network
    n_blocks = network.n_communities if isinstance(network, CommunitySpec) else None
    for path, value in (
        ("seeding.community", scenario.seeding.community),
        ("field_team.community", scenario.field_team.community),
    ):
        if value is None:
            continue
        if n_blocks is None:
            raise ValueError(f"{path} needs network.kind = communities; got network.kind = {network.kind}")
        if value >= n_blocks:
            raise ValueError(f"{path} must be in [0, {n_blocks - 1}]; got {value}")
    if scenario.seeding.selection == "community" and scenario.seeding.community is None:
        raise ValueError("seeding.community must be set when seeding.selection = community; got none")
    if scenario.seeding.selection != "community" and scenario.seeding.community is not None:
        raise ValueError(
            "seeding.community is only used with seeding.selection = community; "
            f"got seeding.selection = {scenario.seeding.selection}"
        )


def _people_problems(scenario: Scenario, n: int, what: str) -> list[tuple[str, str]]:
    """``(path, message)`` for each setting that needs more people than ``n`` (``what`` names them)."""
    problems = []
    if scenario.fraud.n_attackers > n:
        problems.append(
            (
                "fraud.n_attackers",
                f"fraud.n_attackers must be at most {what} (each attacker is a real account); "
                f"got {scenario.fraud.n_attackers}",
            )
        )
    roles = scenario.roles
    too_big = [i for i in roles.kol_ids if i >= n]
    if too_big:
        problems.append(
            ("roles.kol_ids", f"roles.kol_ids must be in [0, {n - 1}] ({what}); got {given_text(too_big)}")
        )
    if roles.n_employees + max(roles.n_kols, len(roles.kol_ids)) > n:
        problems.append(
            (
                "roles.n_employees",
                f"roles.n_employees + roles.n_kols must be at most {what}; "
                f"got {roles.n_employees} + {max(roles.n_kols, len(roles.kol_ids))}",
            )
        )
    return problems


def scenario_from_dict(
    data: Any,
    *,
    base_dir: str | Path | None = None,
    source: str | None = None,
    attachments: Mapping[str, bytes] | None = None,
) -> Scenario:
    """Validate plain data (from YAML, the app or a sweep) into a :class:`Scenario`.

    Args:
        data: The scenario as nested mappings.
        base_dir: Folder that relative file paths are resolved against.
        source: Names the scenario in messages.
        attachments: The files uploaded with the scenario, ``{file name: content}``. When given (even
            empty), the scenario is sandboxed: ``network.path`` must be the plain name of one of them
            (never a path on the server: no folder, no ``..``), and the graph is read from it.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(
            [Problem("", "a scenario must be a mapping of sections (network:, ads:, …)", given_text(data))],
            source,
        )
    if "base_dir" in data:
        raise ScenarioError([Problem("base_dir", "unknown key (set by the loader)", "")], source)
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(problems_from(exc), source) from None
    if base_dir is not None:
        scenario.base_dir = str(base_dir)
    if attachments is not None:
        _check_sandbox(scenario, attachments, source)
        scenario._attachments = dict(attachments)
    return scenario


def _check_sandbox(scenario: Scenario, attachments: Mapping[str, bytes], source: str | None) -> None:
    """An uploaded scenario's files must be among those uploaded with it (one line if not)."""
    path = getattr(scenario.network, "path", None)
    if path is None:
        return
    plain = path not in ("", ".", "..") and not any(mark in path for mark in ("/", "\\", "\x00", ":"))
    if not plain:
        allowed = "an uploaded scenario can only use files uploaded with it: a plain file name, never a path"
    elif path not in attachments:
        names = ", ".join(sorted(attachments)) or "none was"
        allowed = f"must name a file uploaded with the scenario (uploaded: {names})"
    else:
        return
    raise ScenarioError([Problem("network.path", allowed, given_text(path))], source)
