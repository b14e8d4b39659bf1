"""The market's sections: the social graph, the people, what happens after a purchase, money, discovery.

Strategies compared side by side share every one of these (see :data:`sim.scenario.MARKET_SECTIONS`).
Units are in each field's description; naming follows :mod:`sim.scenario`.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, model_validator

from sim.scenario.schedule import schedulable
from sim.scenario.section import MAX_DAYS, MAX_MONEY, MAX_PEOPLE, Probability, Section

__all__ = [
    "GRAPH_FORMATS",
    "GRAPH_KINDS",
    "MAX_PEOPLE",
    "MIN_PEOPLE",
    "BarabasiAlbertSpec",
    "CommunitySpec",
    "CompleteGraphSpec",
    "CustomersSpec",
    "EconomicsSpec",
    "EdgeListSpec",
    "ErdosRenyiSpec",
    "NetworkSpec",
    "OrganicSpec",
    "PopulationSpec",
    "WattsStrogatzSpec",
]


# --------------------------------------------------------------------------------------- network


#: Fewest people a market may have (``network.n``; a graph file's people count too); the most is
#: :data:`~sim.scenario.section.MAX_PEOPLE`.
MIN_PEOPLE = 2


class _GraphBase(Section):
    n: int = Field(
        10_000,
        ge=MIN_PEOPLE,
        le=MAX_PEOPLE,
        description="Number of people in the market (nodes of the graph).",
    )


class CompleteGraphSpec(_GraphBase):
    """Everyone knows everyone: the Bass model's mixing assumption (docs/science.md)."""

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
    m: int = Field(5, ge=1, le=MAX_PEOPLE, description="Edges each newcomer attaches to existing people.")

    @model_validator(mode="after")
    def _fits(self) -> BarabasiAlbertSpec:
        if self.m >= self.n:
            raise ValueError(f"m must be less than n = {self.n}; got {self.m}")
        return self


class WattsStrogatzSpec(_GraphBase):
    """Small world: a ring lattice whose edges are rewired at random with probability p_rewire."""

    kind: Literal["watts_strogatz"] = "watts_strogatz"
    k: int = Field(
        10, ge=2, le=MAX_PEOPLE, description="Each person's neighbours on the ring before rewiring (even)."
    )
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
    n_communities: int = Field(10, ge=1, le=MAX_PEOPLE, description="Number of equal-sized communities.")
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


GraphFormat = Literal["auto", "edge_list", "graphml", "gexf", "gml", "pajek"]
#: How a graph file is read (``network.format``): ``auto`` chooses by extension, then by content.
GRAPH_FORMATS: tuple[str, ...] = get_args(GraphFormat)


class EdgeListSpec(_GraphBase):
    """A social graph read from a file: an edge list (CSV, TSV, KONECT, SNAP), GraphML, GEXF, GML or Pajek.

    An edge list has one tie per line: two ids (numbers or names), then optionally a weight read as
    the tie's strength. Comment lines (``%``, ``#``), a header and a first line of node and edge
    counts are skipped; ids are numbered 0..n−1 and the mapping is kept with the results. A relative
    path is resolved against the scenario file's folder (an uploaded scenario may only name files
    uploaded with it). See docs/model.md, "World".
    """

    kind: Literal["edge_list"] = "edge_list"
    n: int | None = Field(  # type: ignore[assignment]
        None,
        ge=MIN_PEOPLE,
        le=MAX_PEOPLE,
        description=(
            "Number of people; leave it out to take it from the file (a value that disagrees with the "
            "file is an error)."
        ),
    )
    path: str = Field(
        ...,
        min_length=1,
        description=(
            "Path of the graph file, relative to the scenario's folder: an edge list (two ids per line, "
            "numbers or names; a third column is read as tie strength), or a .graphml, .gexf, .gml or "
            ".net (Pajek) file. An uploaded scenario names a file uploaded with it."
        ),
    )
    format: GraphFormat = Field(
        "auto", description="How to read the file; auto: by its extension, then by its content."
    )


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
GRAPH_KINDS: tuple[str, ...] = tuple(
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
        40.0, gt=0.0, le=MAX_MONEY, description="Mean order value across people (currency per order)."
    )
    order_value_sigma: float = Field(
        1.0,
        ge=0.0,
        le=4.0,
        description=(
            "Log-normal shape of each person's typical order value; 1.0 puts most revenue in the top "
            "20% of customers (the Pareto pattern)."
        ),
    )
    rate_purchase_per_day: float = Field(
        0.033, ge=0.0, le=5.0, description="Mean orders per active customer per day (0.033 ≈ monthly)."
    )
    purchase_rate_shape: float = Field(
        2.0,
        ge=1e-3,
        le=1e6,
        description=(
            "Gamma shape of purchase frequency across people; smaller means more unequal (below 1e-3 "
            "nearly every draw underflows to 0 and the mean rate is lost; above 1e6 everyone is alike)."
        ),
    )
    # Above 1e6 the Beta law gives everyone the churn α/(α+β) to six digits: nothing more to represent.
    churn_alpha: float = Field(
        0.704, gt=0.0, le=1e6, description="Beta(α, β) α of per-period churn probability (Fader & Hardie)."
    )
    churn_beta: float = Field(
        1.182, gt=0.0, le=1e6, description="Beta(α, β) β of per-period churn probability (Fader & Hardie)."
    )
    days_churn_period: int = Field(
        365, ge=1, le=MAX_DAYS, description="Length of the period the churn probability refers to (days)."
    )
    share_initial_customers: Probability = Field(
        0.0, description="Share of the population who are customers on day 0 (chosen at random)."
    )


class CustomersSpec(Section):
    """What happens once someone signs up: the first order, experiences, churn and win-back.

    Every acquisition (an ad, a friend's share, a field rep …) is a *sign-up*. A person who signs
    up for the first time places a first order with ``p_first_order``, after a geometric delay of
    mean ``days_to_first_order`` days; many sign-ups never buy. Someone who has bought before orders
    again on the day they come back.
    """

    p_first_order: Probability = Field(
        0.8,
        description=(
            "Probability that a person who signs up ever places a first order (illustrative default; "
            "docs/science.md §6)."
        ),
    )
    days_to_first_order: float = Field(
        2.0,
        ge=0.0,
        le=3650.0,
        description=(
            "Mean days from sign-up to the first order, geometric on 0, 1, 2, … (0 = the same day; days)."
        ),
    )

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
    rel_demand: schedulable(ge=0.0, le=100.0) = Field(  # type: ignore[valid-type]
        1.0,
        description=(
            "Multiplier on every customer's purchase rate (1 = as drawn): a schedule gives demand "
            "seasonality (weekly and yearly multipliers, a holiday peak)."
        ),
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
