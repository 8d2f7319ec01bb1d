"""Automatic pre-allocation (席位自动预分): plan, apply and release station quotas.

From an OD forecast built from past sales, each seat class keeps enough of its
free common seats for the origin's forecast passengers first; of what is left,
each intermediate station B gets a share (default 30 %) of the passengers
forecast to board there. Its seats go into a station quota reserved for B,
which the engine also sells before B as through-sale to journeys ending by B
(the restricted-sale segment; only when seat reuse is unlimited). Planning is
pure and explains every grant for the audit; applying tops each quota up to its
planned size, so a plan applied twice moves seats once. At the release time the
unsold pre-allocated seats go back to the common pool of their class.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from central.inventory.engine import TrainInventory
from central.inventory.errors import BadJourney, UnknownQuota
from central.inventory.quotas import Purpose, Quota, ShareMode

Journey = tuple[str, int, int]  # seat class, boarding stop index, destination stop index
Take = tuple[str, int]  # common quota id, seats taken from it

DEFAULT_PREFIX = "PA"


def _round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` to the nearest int; halves go up (``round`` goes to even)."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True)
class OdForecast:
    """Forecast passengers per journey ``(seat_class, board, dest)`` of one train run."""

    demand: Mapping[Journey, int]

    def __post_init__(self) -> None:
        for (seat_class, board, dest), count in self.demand.items():
            if not 0 <= board < dest:
                raise ValueError(f"forecast journey {seat_class} {board}->{dest} is not a journey")
            if count < 0:
                raise ValueError(f"forecast for {seat_class} {board}->{dest} is negative: {count}")
        # A frozen forecast must not change under a plan that was built from it.
        object.__setattr__(self, "demand", MappingProxyType(dict(self.demand)))

    @classmethod
    def from_sales(cls, records: Iterable[tuple[str, int, int, int]], runs: int) -> OdForecast:
        """Average past sales ``(seat_class, board, dest, count)`` over ``runs`` past runs."""
        if runs < 1:
            raise ValueError(f"a forecast needs at least one past run, got {runs}")
        totals: dict[Journey, int] = {}
        for seat_class, board, dest, count in records:
            journey = (seat_class, board, dest)
            totals[journey] = totals.get(journey, 0) + count
        averages = {journey: _round_half_up(total, runs) for journey, total in totals.items()}
        return cls({journey: count for journey, count in averages.items() if count})

    def passengers(self, seat_class: str, board: int, dest: int) -> int:
        """Passengers forecast for one journey."""
        return self.demand.get((seat_class, board, dest), 0)

    def boarding(self, seat_class: str, board: int) -> int:
        """Passengers of a class forecast to board at stop ``board``, wherever they go."""
        return sum(n for (c, a, _), n in self.demand.items() if c == seat_class and a == board)

    @property
    def last_stop(self) -> int:
        """The farthest destination the forecast mentions (0 when empty)."""
        return max((dest for _, _, dest in self.demand), default=0)


@dataclass(frozen=True)
class PreallocationSettings:
    """How pre-allocation shares seats out and how its quotas are shared."""

    share_percent: int = 30
    quota_prefix: str = DEFAULT_PREFIX
    share: ShareMode = ShareMode.ROUTE
    sharers: frozenset[str] = frozenset()  # the stations for GROUP and STATIONS sharing
    share_group: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.share_percent <= 100:
            raise ValueError(f"share_percent must be 0..100, got {self.share_percent}")
        if not self.quota_prefix:
            raise ValueError("quota_prefix must not be empty")
        if self.share in (ShareMode.GROUP, ShareMode.STATIONS) and not self.sharers:
            raise ValueError(f"sharing mode {self.share} needs the sharing stations")

    def quota_id(self, seat_class: str, station: str) -> str:
        """Id of the pre-allocation quota of one class at one station."""
        return f"{self.quota_prefix}-{seat_class}-{station}"

    def wanted(self, passengers: int) -> int:
        """Seats wanted for ``passengers`` forecast to board at a station."""
        return _round_half_up(passengers * self.share_percent, 100)


@dataclass(frozen=True)
class PlannedQuota:
    """One station quota to top up: it holds ``seats`` once applied.

    ``takes`` says where its new seats come from, common quotas in order;
    ``wanted`` is the share of the ``demand`` boarding at the station.
    """

    quota_id: str
    seat_class: str
    board: int
    seats: int
    takes: tuple[Take, ...]
    demand: int
    wanted: int
    explanation: str

    @property
    def source_quota(self) -> str:
        """The (first) common quota the new seats come from."""
        return self.takes[0][0]

    @property
    def new_seats(self) -> int:
        """Seats this item moves into the quota."""
        return sum(count for _, count in self.takes)


@dataclass(frozen=True)
class ClassBudget:
    """How one seat class's free common seats were shared out."""

    seat_class: str
    free_common: int
    origin_demand: int
    wanted: int
    granted: int

    @property
    def is_scaled_down(self) -> bool:
        """True when the stations got less than they wanted."""
        return self.granted < self.wanted

    @property
    def summary(self) -> str:
        """One line for the audit record."""
        left = max(0, self.free_common - self.origin_demand)
        scaled = ", scaled down" if self.is_scaled_down else ""
        return (
            f"{self.seat_class}: {self.free_common} free common seats, "
            f"{self.origin_demand} kept for the origin, {left} left; "
            f"stations wanted {self.wanted}, granted {self.granted}{scaled}"
        )


@dataclass(frozen=True)
class PreallocationPlan:
    """What pre-allocation will do to one train run, per class and per station."""

    items: tuple[PlannedQuota, ...]
    budgets: tuple[ClassBudget, ...]
    settings: PreallocationSettings

    @property
    def total_seats(self) -> int:
        """Seats the plan moves out of common quotas."""
        return sum(item.new_seats for item in self.items)


@dataclass(frozen=True)
class AppliedMove:
    """Seats that moved from one quota to another, for the audit record."""

    from_quota: str
    to_quota: str
    seats: tuple[int, ...]

    @property
    def summary(self) -> str:
        """One line for the audit record."""
        return f"{len(self.seats)} seats {self.from_quota} -> {self.to_quota}"


class PlannedRelease(NamedTuple):
    """A pre-allocation quota whose seats go back to a common quota."""

    quota_id: str
    common_quota: str
    seats: int


# ----- planning ---------------------------------------------------------------


def plan_preallocation(
    inv: TrainInventory,
    forecast: OdForecast,
    settings: PreallocationSettings | None = None,
) -> PreallocationPlan:
    """Plan the station quotas of every seat class; the inventory is not changed.

    Seats a station's pre-allocation quota already holds count towards what it
    wants, so planning again after applying finds nothing more to do.
    """
    settings = settings or PreallocationSettings()
    if forecast.last_stop >= len(inv.stops):
        raise BadJourney(f"the forecast goes to stop {forecast.last_stop}, past the route's end")
    items: list[PlannedQuota] = []
    budgets: list[ClassBudget] = []
    for seat_class in inv.pools_by_class:
        budget, planned = _plan_class(inv, forecast, settings, seat_class)
        budgets.append(budget)
        items += planned
    return PreallocationPlan(tuple(items), tuple(budgets), settings)


def _plan_class(
    inv: TrainInventory, forecast: OdForecast, settings: PreallocationSettings, seat_class: str
) -> tuple[ClassBudget, list[PlannedQuota]]:
    sources = [(q, _free_count(inv, q)) for q in _common_sources(inv, seat_class)]
    free = sum(count for _, count in sources)
    origin = forecast.boarding(seat_class, 0)
    stations = range(1, len(inv.stops) - 1)
    demands = [forecast.boarding(seat_class, b) for b in stations]
    held = [_held_at(inv, settings, seat_class, b) for b in stations]
    wants = [max(0, settings.wanted(d) - h) for d, h in zip(demands, held, strict=True)]
    grants = _scale_to_fit(wants, max(0, free - origin))
    budget = ClassBudget(seat_class, free, origin, sum(wants), sum(grants))
    takes = _split_takes(grants, sources)
    planned = [
        _planned_quota(inv, settings, seat_class, b, demands[i], held[i], takes[i], budget)
        for i, b in enumerate(stations)
        if grants[i]
    ]
    return budget, planned


def _planned_quota(
    inv: TrainInventory,
    settings: PreallocationSettings,
    seat_class: str,
    board: int,
    demand: int,
    held: int,
    takes: tuple[Take, ...],
    budget: ClassBudget,
) -> PlannedQuota:
    station = inv.stops[board]
    quota_id = settings.quota_id(seat_class, station)
    granted = sum(count for _, count in takes)
    wanted = settings.wanted(demand)
    explanation = (
        f"{quota_id}: {demand} passengers forecast boarding at {station}, "
        f"{settings.share_percent}% = {wanted} wanted, {held} held, {granted} granted"
    )
    if budget.is_scaled_down:
        explanation += f" (scaled down: {budget.summary})"
    return PlannedQuota(
        quota_id, seat_class, board, held + granted, takes, demand, wanted, explanation
    )


def _scale_to_fit(wants: Sequence[int], capacity: int) -> list[int]:
    """Grant every want, or scale them down to exactly ``capacity`` (largest remainder)."""
    total = sum(wants)
    if total <= capacity:
        return list(wants)
    grants = [want * capacity // total for want in wants]
    spare = capacity - sum(grants)
    # Each leftover seat goes to the biggest fractional part; ties to the earlier stop.
    order = sorted(range(len(wants)), key=lambda i: (-(wants[i] * capacity % total), i))
    for i in order[:spare]:
        grants[i] += 1
    return grants


def _split_takes(grants: Sequence[int], sources: Sequence[Take]) -> list[tuple[Take, ...]]:
    """Take each grant from the common quotas in order, each up to its free seats."""
    remaining = [count for _, count in sources]
    split: list[tuple[Take, ...]] = []
    for grant in grants:
        takes: list[Take] = []
        for i, (quota_id, _) in enumerate(sources):
            count = min(grant, remaining[i])
            if count > 0:
                takes.append((quota_id, count))
                remaining[i] -= count
                grant -= count
        split.append(tuple(takes))
    return split


# ----- applying -----------------------------------------------------------------


def apply_plan(inv: TrainInventory, plan: PreallocationPlan) -> list[AppliedMove]:
    """Create the planned quotas and top each up to its planned size.

    Only the difference between the planned size and what the quota holds now
    moves, so applying a plan again moves nothing; a quota holding more than
    planned keeps its seats (only a release or an adjustment takes them back).
    Only fully free common seats move, even if the inventory changed since the
    plan was made, so the moves may fall short of the plan but never take a
    sold seat.
    """
    moves: list[AppliedMove] = []
    for item in plan.items:
        _ensure_quota(inv, plan.settings, item)
        moves += _top_up(inv, item)
    return moves


def _top_up(inv: TrainInventory, item: PlannedQuota) -> list[AppliedMove]:
    need = item.seats - _held(inv, item.quota_id)
    moves: list[AppliedMove] = []
    for source, count in item.takes:
        # move_seats takes the emptiest seats first: capped at the fully free ones, no sold seat.
        step = min(need, count, _free_count(inv, source))
        if step > 0:
            seats = inv.move_seats(source, item.quota_id, step)
            moves.append(AppliedMove(source, item.quota_id, tuple(seats)))
            need -= step
    return moves


def _ensure_quota(inv: TrainInventory, settings: PreallocationSettings, item: PlannedQuota) -> None:
    if _is_station_quota(inv, item.quota_id, item.seat_class, item.board):
        return
    quota = Quota(
        item.quota_id,
        item.seat_class,
        Purpose.STATION,
        board=item.board,
        share=settings.share,
        sharers=_sharers(inv, settings),
        share_group=settings.share_group,
    )
    inv.add_quota(quota)


def _sharers(inv: TrainInventory, settings: PreallocationSettings) -> frozenset[str]:
    """Selling stations admitted besides the boarding one, as the timetable loader sets them."""
    if settings.share is ShareMode.ROUTE:
        return frozenset(inv.stops)
    if settings.share is ShareMode.NONE:
        return frozenset()
    return settings.sharers


# ----- releasing ----------------------------------------------------------------


def plan_release(inv: TrainInventory, prefix: str = DEFAULT_PREFIX) -> list[PlannedRelease]:
    """Every pre-allocation quota holding seats, and the common quota they go back to."""
    releases: list[PlannedRelease] = []
    for seat_class, pools in inv.pools_by_class.items():
        for pool in pools:
            quota_id = pool.quota.quota_id
            held = _held(inv, quota_id) if _is_preallocation(pool.quota, prefix) else 0
            if held:
                releases.append(PlannedRelease(quota_id, _release_target(inv, seat_class), held))
    return releases


def apply_release(inv: TrainInventory, releases: Iterable[PlannedRelease]) -> list[AppliedMove]:
    """Move the seats back, partly sold ones too: their free remainders become common.

    A quota already emptied moves nothing, so a release applied twice moves once.
    """
    moves: list[AppliedMove] = []
    for release in releases:
        count = min(release.seats, _held(inv, release.quota_id))
        if count > 0:
            seats = inv.move_seats(release.quota_id, release.common_quota, count)
            moves.append(AppliedMove(release.quota_id, release.common_quota, tuple(seats)))
    return moves


# ----- shared look-ups ----------------------------------------------------------


def _common_sources(inv: TrainInventory, seat_class: str) -> list[str]:
    """Common quotas of a class without a restricted-sale segment, in order."""
    return [
        pool.quota.quota_id
        for pool in inv.pools_by_class[seat_class]
        if pool.quota.purpose is Purpose.COMMON and not pool.quota.min_dest
    ]


def _release_target(inv: TrainInventory, seat_class: str) -> str:
    sources = _common_sources(inv, seat_class)
    if not sources:
        raise UnknownQuota(f"class {seat_class} has no common quota to release seats into")
    return sources[0]


def _is_preallocation(quota: Quota, prefix: str) -> bool:
    return quota.purpose is Purpose.STATION and quota.quota_id.startswith(f"{prefix}-")


def _free_count(inv: TrainInventory, quota_id: str) -> int:
    """Seats of a quota with nothing sold or blocked."""
    full_run = inv.geo.run_id[(0, inv.geo.segments)]
    return len(inv.pools[quota_id].fully_free_seats(full_run))


def _held(inv: TrainInventory, quota_id: str) -> int:
    """Seats a quota holds; 0 when it does not exist yet."""
    return len(inv.quota_seats(quota_id)) if quota_id in inv.pools else 0


def _held_at(
    inv: TrainInventory, settings: PreallocationSettings, seat_class: str, board: int
) -> int:
    """Seats the pre-allocation quota of a class at a stop holds already."""
    quota_id = settings.quota_id(seat_class, inv.stops[board])
    return _held(inv, quota_id) if _is_station_quota(inv, quota_id, seat_class, board) else 0


def _is_station_quota(inv: TrainInventory, quota_id: str, seat_class: str, board: int) -> bool:
    """True if the quota exists; refuse a quota of that id kept for something else."""
    pool = inv.pools.get(quota_id)
    if pool is None:
        return False
    quota = pool.quota
    if quota.purpose is not Purpose.STATION or quota.board != board:
        raise UnknownQuota(f"quota {quota_id} exists and is not a station quota for stop {board}")
    if quota.seat_class != seat_class:
        raise UnknownQuota(f"quota {quota_id} exists for class {quota.seat_class}")
    return True
