"""The population: one NumPy column per attribute, indexed by node id.

Columns are allocated once and never rebound: rules assign in place (``pop.stage[idx] = ...``). A
rebinding raises an error that names the fix, because a rebound column would silently detach from
every view and snapshot that holds the old array.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np

from sim.engine.compiled import kernel
from sim.scenario import PopulationSpec

__all__ = [
    "CHANNELS",
    "NEVER",
    "NOT_DUE",
    "AccountStatus",
    "Channel",
    "FraudKind",
    "Population",
    "Role",
    "Stage",
    "add_counts",
    "build_population",
    "count_stages",
]

#: Sentinel for "this has not happened" in ``day_*`` and id columns.
NEVER = -1
#: ``day_first_order_due`` of a person who signed up and will never order (later than any day).
NOT_DUE = int(np.iinfo(np.int32).max)


class Stage(IntEnum):
    """Where a person stands with the brand. Every person is in exactly one stage."""

    UNAWARE = 0
    AWARE = 1
    CONSIDERING = 2
    CUSTOMER = 3  # an active customer
    CHURNED = 4  # a former customer, back in the market and open to win-back
    RIVAL = 5  # a customer of the rival brand (section rival): won over by switching only


class Channel(IntEnum):
    """How a person became a customer (most recent acquisition, or first)."""

    NONE = 0
    INITIAL = 1  # already a customer on day 0
    ADS = 2
    SHARING = 3
    ORGANIC = 4
    SEED = 5  # seeded on the first day (free product, launch list)
    FIELD = 6  # signed up by a field rep
    WINBACK = 7  # a churned customer brought back by a win-back contact


#: Channel names in :class:`Channel` order, as used in tables and metric names.
CHANNELS: tuple[str, ...] = tuple(channel.name.lower() for channel in Channel)


class Role(IntEnum):
    """A person's role on the graph; later rules (employees, KOLs, seeds, fraud) assign the others."""

    ORDINARY = 0
    EMPLOYEE = 1
    KOL = 2
    SEED = 3
    FAKE = 4


class FraudKind(IntEnum):
    """Ground truth about a person, known to the simulator, never to the defences."""

    HONEST = 0
    FAKE_ACCOUNT = 1  # a fake account (Role.FAKE) activated by an attacker
    COUPON_FARMER = 2  # a real person who joins for the friend reward and leaves
    ATTACKER = 3  # a real account that runs fake accounts


class AccountStatus(IntEnum):
    """What the defences decided about an account."""

    CLEAR = 0
    FLAGGED = 1  # waiting for review; its rewards are held
    BLOCKED = 2  # its rewards are denied
    CLEARED = 3  # reviewed and found honest


# name -> (dtype, initial fill). Everything a rule may read or write is listed here, in one place.
_COLUMNS: dict[str, tuple[type, Any]] = {
    # funnel and customer state
    "stage": (np.int8, Stage.UNAWARE),
    "role": (np.int8, Role.ORDINARY),
    "acquired_via": (np.int8, Channel.NONE),  # channel of the latest acquisition
    "first_channel": (np.int8, Channel.NONE),  # channel of the first acquisition
    "day_acquired": (np.int32, NEVER),  # day of the latest acquisition
    "day_first_acquired": (np.int32, NEVER),
    "day_churned": (np.int32, NEVER),  # day of the latest churn
    "day_first_churned": (np.int32, NEVER),
    "n_acquisitions": (np.int16, 0),
    "referrer": (np.int32, NEVER),  # who referred the latest acquisition, if a share did
    "n_referrals": (np.int32, 0),  # customers this person has referred
    # ads exposure
    "n_ad_exposures": (np.int32, 0),  # lifetime impressions seen (drives wear-out)
    # purchases and experiences
    "day_first_order": (np.int32, NEVER),  # day of the first order ever (a sign-up may never order)
    "day_first_order_due": (np.int32, NEVER),  # planned day of the first order (NOT_DUE: never)
    "n_orders": (np.int32, 0),
    "revenue": (np.float64, 0.0),  # cumulative, currency
    "n_good_experiences": (np.int16, 0),
    "n_bad_experiences": (np.int16, 0),
    # fixed traits drawn with the world
    "order_value": (np.float32, 0.0),  # typical order value, currency per order
    "rate_purchase": (np.float32, 0.0),  # orders per day while active
    "p_churn_base": (np.float32, 0.0),  # daily churn probability before experiences
    "community": (np.int32, 0),  # community label (0 when the graph has none)
    # referral incentives and fraud
    "fraud_kind": (np.int8, 0),  # ground truth: 0 honest, 1 fake account, 2 coupon farmer, 3 attacker
    "account_status": (np.int8, 0),  # defences: 0 clear, 1 flagged, 2 blocked, 3 cleared by review
    "reward_paid": (np.float64, 0.0),  # referral rewards paid to this person as referrer, currency
    "n_rewards_denied": (np.int16, 0),  # this referrer's rewards denied by a defence
    "rel_share": (np.float32, 1.0),  # multiplier on this customer's share rate (rewards, denials)
    "rel_referred_convert": (np.float32, 1.0),  # multiplier on converting when a friend shares
    "rel_churn_referred": (np.float32, 1.0),  # churn multiplier of a referred customer
    # retention levers, roles, field team and loyalty (sim/rules/retention.py, roles.py, loyalty.py)
    "offer_response": (np.int8, 0),  # how a retention offer would move this person (OfferResponse)
    "day_offer_ends": (np.int32, NEVER),  # last day a retention offer's effect lasts
    "rel_churn_offer": (np.float32, 1.0),  # churn hazard multiplier while an offer lasts
    "rel_churn_fit": (np.float32, 1.0),  # churn hazard multiplier of poor-fit sign-ups (field push)
    "rel_churn_loyalty": (np.float32, 1.0),  # churn hazard multiplier from loyalty tier and balance
    "points": (np.float64, 0.0),  # unredeemed loyalty points
    "points_earned": (np.float64, 0.0),  # loyalty points earned in total
    "points_redeemed": (np.float64, 0.0),  # loyalty points redeemed in total
    "points_expired": (np.float64, 0.0),  # loyalty points lost to expiry in total
    "tier": (np.int8, NEVER),  # loyalty tier index (NEVER = not a member)
    "qualifying_spend": (np.float64, 0.0),  # spend or points counted toward the next tier review
    "day_last_order": (np.int32, NEVER),  # day of the latest order (loyalty expiry)
    "day_below_tier": (np.int32, NEVER),  # first day a member fell below their tier (grace period)
    "day_last_reward": (np.int32, NEVER),  # day of the latest points redemption
    "rel_purchase": (np.float32, 1.0),  # purchase-rate multiplier (loyalty goal gradient)
    "rate_share_extra": (np.float32, 0.0),  # extra shares per day of loyalty members (tier benefit)
    # paid channels and the rival brand (sim/rules/ads.py, rival.py)
    "first_ad_channel": (np.int8, NEVER),  # our ad channel (index in ads) of the first ads sign-up
    "rival_stage": (np.int8, Stage.UNAWARE),  # stage with the rival (CUSTOMER: the rival's customer)
    "stage_before_rival": (np.int8, NEVER),  # our stage when the person joined the rival
    "day_rival_acquired": (np.int32, NEVER),  # day of the latest rival acquisition (its sharing fades)
}


def add_counts(column: np.ndarray, index: np.ndarray, amounts: np.ndarray | int) -> None:
    """``column[index] += amounts`` for a count column, stopping at the dtype's largest value.

    Counts kept in small integer columns (orders in int32, experiences in int16) would wrap around
    to negative numbers on a long horizon with heavy buyers; a count that stops at its maximum is
    still far past every threshold a rule compares it with (a habit needs at most 1,000).
    """
    top = np.iinfo(column.dtype).max
    total = column[index].astype(np.int64) + np.asarray(amounts, dtype=np.int64)
    column[index] = np.minimum(total, top)


@kernel
def _bincount(values: np.ndarray, size: int) -> np.ndarray:
    """Occurrences of each value 0 … ``size − 1`` in ``values`` (every value must be in that range)."""
    counts = np.zeros(size, dtype=np.int64)
    for value in values:
        counts[value] += 1
    return counts


def count_stages(stage: np.ndarray) -> np.ndarray:
    """People per :class:`Stage` in a ``stage`` column (int8, values in :class:`Stage`), in stage order.

    One compiled pass, as ``np.bincount(stage, minlength=len(Stage))`` but without widening the
    column to a full-length int64 temporary first (the day's close counts stages every day).
    """
    return _bincount(stage, len(Stage))


class Population:
    """State arrays for ``n`` people. Attribute access returns the live column (a NumPy view).

    Complexity: building is O(n) memory of about 180 bytes per person.
    """

    column_names: tuple[str, ...] = tuple(_COLUMNS)
    n: int
    _columns: dict[str, np.ndarray]

    def __init__(self, n: int) -> None:
        object.__setattr__(self, "n", n)
        columns: dict[str, np.ndarray] = {
            name: np.full(n, fill, dtype=dtype) for name, (dtype, fill) in _COLUMNS.items()
        }
        self._attach(columns)

    def _attach(self, columns: dict[str, np.ndarray]) -> None:
        # Columns are plain instance attributes too, so reading one is an ordinary (fast) lookup;
        # __setattr__ below still refuses to rebind them.
        object.__setattr__(self, "_columns", columns)
        self.__dict__.update(columns)

    def __getattr__(self, name: str) -> np.ndarray:
        raise AttributeError(f"Population has no column {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _COLUMNS:
            raise AttributeError(
                f"column {name!r} cannot be rebound; assign in place: population.{name}[:] = values"
            )
        raise AttributeError(f"Population has no column {name!r}; columns are declared in _COLUMNS")

    def column(self, name: str) -> np.ndarray:
        """The live column ``name``."""
        return self._columns[name]

    def copy(self) -> Population:
        """A deep copy: the same people, with state that can evolve independently."""
        clone = Population.__new__(Population)
        object.__setattr__(clone, "n", self.n)
        clone._attach({k: v.copy() for k, v in self._columns.items()})
        return clone

    def grown(self, n_total: int, *, reuse: bool = False) -> Population:
        """These people (their state copied) followed by ``n_total − n`` new rows at the initial values.

        With ``reuse`` each of this population's columns is released as soon as it is copied, so
        growing needs one column's memory on top of the result instead of a second population (at 1M
        people about 175 MiB less at the peak); this population has no columns afterwards and must
        not be used again.

        Raises:
            ValueError: ``n_total`` is smaller than ``n``.
        """
        if n_total < self.n:
            raise ValueError(f"a population can only grow: {n_total} < {self.n} people")
        columns: dict[str, np.ndarray] = {}
        for name, (dtype, fill) in _COLUMNS.items():
            # One column at a time: the new one is allocated only after the previous old one is freed.
            column: np.ndarray = np.full(n_total, fill, dtype=dtype)
            column[: self.n] = self._columns[name]
            columns[name] = column
            if reuse:
                del self._columns[name]
                del self.__dict__[name]
        bigger = Population.__new__(Population)
        object.__setattr__(bigger, "n", n_total)
        bigger._attach(columns)
        return bigger

    def snapshot(self) -> dict[str, np.ndarray]:
        """Copies of every column (for tests and the contract check)."""
        return {name: column.copy() for name, column in self._columns.items()}

    def stage_counts(self) -> np.ndarray:
        """People per :class:`Stage`, length ``len(Stage)``, in stage order."""
        return count_stages(self._columns["stage"])

    def head(self, n: int) -> Population:
        """The first ``n`` people as a population of views (no copy).

        With fake accounts appended after the real people, ``head(network.n)`` is the real people.
        """
        if n == self.n:
            return self
        view = Population.__new__(Population)
        object.__setattr__(view, "n", n)
        view._attach({k: v[:n] for k, v in self._columns.items()})
        return view

    def row(self, index: int) -> dict[str, Any]:
        """One person's values as plain Python values."""
        return {name: column[index].item() for name, column in self._columns.items()}


def build_population(
    spec: PopulationSpec, n: int, rng: np.random.Generator, community: np.ndarray | None = None
) -> Population:
    """Draw people's fixed traits and day-0 customers.

    - Order value: log-normal with mean ``order_value_mean`` and shape ``order_value_sigma``; spend is
      heavy-tailed so a minority carries most revenue (the Pareto pattern).
    - Purchase rate: gamma with mean ``rate_purchase_per_day`` and shape ``purchase_rate_shape``.
    - Churn: per-period churn θ ~ Beta(α, β) (Fader & Hardie's shifted-beta-geometric), turned into
      a daily probability ``1 − (1 − θ)^(1/days_churn_period)`` so survival after t periods is exactly
      ``(1 − θ)^t``.
    """
    population = Population(n)
    sigma = spec.order_value_sigma
    # mean of lognormal(mu, sigma) is exp(mu + sigma²/2): pick mu so the mean is as specified.
    mu = np.log(spec.order_value_mean) - sigma**2 / 2
    population.order_value[:] = rng.lognormal(mu, sigma, n)
    shape = spec.purchase_rate_shape
    population.rate_purchase[:] = rng.gamma(shape, spec.rate_purchase_per_day / shape, n)
    theta = rng.beta(spec.churn_alpha, spec.churn_beta, n)
    # log1p/expm1 keep precision when θ is tiny or the period long; θ = 1 gives log 0 = −inf and
    # so a daily probability of exactly 1, which is right.
    with np.errstate(divide="ignore"):
        population.p_churn_base[:] = -np.expm1(np.log1p(-theta) / spec.days_churn_period)
    if community is not None:
        population.community[:] = community
    if spec.share_initial_customers > 0:
        chosen = rng.random(n) < spec.share_initial_customers
        population.stage[chosen] = Stage.CUSTOMER
        population.acquired_via[chosen] = Channel.INITIAL
        population.first_channel[chosen] = Channel.INITIAL
        population.day_acquired[chosen] = 0
        population.day_first_acquired[chosen] = 0
        population.n_acquisitions[chosen] = 1
        population.day_first_order[chosen] = 0  # day-0 customers have bought before
        population.day_first_order_due[chosen] = 0
    return population
