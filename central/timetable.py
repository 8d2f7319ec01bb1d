"""A train run's timetable as central uses it: stops, seats, quotas, fares, times.

Turns a validated ``TrainRunSpec`` into the engine's objects. Seats are
numbered coach by coach; listed quotas take seats of their class from the
last coach backwards, and whatever is left forms the class's common quota
``COMMON-<class>``, which also receives released pre-allocations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from central.inventory import Purpose, Quota, ReusePolicy, ShareMode, TrainInventory
from central.inventory.engine import SeatInfo
from central.inventory.errors import BadJourney
from central.sales.fares import fare_fen
from protocol.errors import ErrorCode
from protocol.timetable import QuotaSpec, TrainRunSpec

COMMON_PREFIX = "COMMON-"


def common_quota_id(seat_class: str) -> str:
    """The id of a class's default common quota."""
    return f"{COMMON_PREFIX}{seat_class}"


@dataclass(frozen=True)
class RunInfo:
    """The timetable facts of one run that selling needs."""

    spec: TrainRunSpec

    @cached_property
    def codes(self) -> list[str]:
        """Station codes in stop order."""
        return [stop.station for stop in self.spec.stops]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {code: index for index, code in enumerate(self.codes)}

    def stop_index(self, code: str) -> int:
        """The index of a station on this run, or an error naming it."""
        index = self._index.get(code)
        if index is None:
            raise BadJourney(
                f"train {self.spec.train} does not call at {code}", ErrorCode.UNKNOWN_STATION
            )
        return index

    def journey(self, from_code: str, to_code: str) -> tuple[int, int]:
        """Stop indices of a journey, checked to run forwards."""
        a, b = self.stop_index(from_code), self.stop_index(to_code)
        if a >= b:
            raise BadJourney(f"{from_code} is not before {to_code} on train {self.spec.train}")
        return a, b

    def departs(self, stop: int) -> datetime:
        """Departure time at a stop (the arrival where the train ends)."""
        stop_spec = self.spec.stops[stop]
        moment = stop_spec.depart or stop_spec.arrive
        assert moment is not None  # the spec validator guarantees one of them
        return moment

    def arrives(self, stop: int) -> datetime:
        """Arrival time at a stop (the departure at the origin)."""
        stop_spec = self.spec.stops[stop]
        moment = stop_spec.arrive or stop_spec.depart
        assert moment is not None
        return moment

    def gate_group(self, stop: int) -> str | None:
        """Where the train checks in at a stop (its gate group), if the timetable says."""
        return self.spec.stops[stop].gate_group

    def price_fen(self, seat_class: str, a: int, b: int) -> int:
        """The fare of a journey in a class, from the class's rate per km."""
        rate = self.spec.fares.get(seat_class)  # type: ignore[call-overload]
        if rate is None:
            raise BadJourney(f"class {seat_class} is not sold on train {self.spec.train}")
        return fare_fen(rate, self.spec.stops[b].km - self.spec.stops[a].km)

    def seat_classes(self) -> list[str]:
        """Classes with seats on this run, in the order of their first coach."""
        seen: dict[str, None] = {}
        for coach in self.spec.coaches:
            seen.setdefault(coach.seat_class, None)
        return list(seen)

    def sharers(self, spec: QuotaSpec) -> frozenset[str]:
        """Selling stations admitted by a quota's sharing mode."""
        mode = spec.share.mode
        if mode == "route":
            return frozenset(self.codes)
        if mode == "group" and spec.share.group is not None:
            return frozenset(self.spec.groups.get(spec.share.group, []))
        if mode == "stations":
            return frozenset(spec.share.stations)
        return frozenset()

    def quota(self, spec: QuotaSpec) -> Quota:
        """The engine's quota for a quota of the timetable."""
        purpose = Purpose(spec.purpose)
        board = {Purpose.ORIGIN: 0, Purpose.COMMON: None}.get(purpose, -1)
        if board == -1:
            assert spec.station is not None  # the spec validator guarantees it
            board = self.stop_index(spec.station)
        return Quota(
            quota_id=spec.quota,
            seat_class=spec.seat_class,
            purpose=purpose,
            board=board,
            min_dest=self.stop_index(spec.min_dest) if spec.min_dest else 0,
            share=ShareMode(spec.share.mode),
            sharers=self.sharers(spec),
            share_group=spec.share.group,
        )

    def reuse_policy(self) -> ReusePolicy:
        """The run's seat reuse policy with stops as indices."""
        reuse = self.spec.reuse
        no_reuse = frozenset(self.stop_index(code) for code in reuse.no_reuse_stations)
        return ReusePolicy(reuse.enabled, no_reuse, reuse.max_splits)

    def seats(self) -> list[SeatInfo]:
        """Every seat, numbered coach by coach."""
        return [
            SeatInfo(coach.coach, number, coach.seat_class)
            for coach in self.spec.coaches
            for number in range(1, coach.seats + 1)
        ]

    def initial_quotas(self) -> list[Quota]:
        """The timetable's quotas plus one common quota per class."""
        listed = [self.quota(spec) for spec in self.spec.quotas]
        commons = [Quota(common_quota_id(c), c, Purpose.COMMON) for c in self.seat_classes()]
        return listed + commons

    def initial_assignment(self) -> list[str]:
        """The quota of each seat when the run is loaded."""
        seats = self.seats()
        assignment = [common_quota_id(seat.seat_class) for seat in seats]
        for spec in self.spec.quotas:
            candidates = [
                n
                for n in reversed(range(len(seats)))
                if seats[n].seat_class == spec.seat_class
                and assignment[n] == common_quota_id(spec.seat_class)
            ]
            for n in candidates[: spec.seats]:
                assignment[n] = spec.quota
        return assignment

    def new_inventory(self) -> TrainInventory:
        """An empty inventory shaped by this timetable (seats not yet loaded)."""
        sells_standing = self.spec.standing_policy != "never"
        standing_cap = {str(c): n for c, n in self.spec.standing.items()} if sells_standing else {}
        return TrainInventory(
            self.codes, self.seats(), self.initial_quotas(), self.reuse_policy(), standing_cap
        )
