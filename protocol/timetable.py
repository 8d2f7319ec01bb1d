"""The timetable of a train run as loaded into central (``POST /v1/train-runs``).

Stops with times and km, coaches and seat classes, standing places, fares per
km, the seat reuse policy, quotas with their sharing, station groups and the
pre-allocation settings. Validation reports every problem at once and says
where it is (``stops[3] (JGK): ...``, ``quotas[1] (jinan_ze): ...``). What
JSON Schema can state is in the schema (conditional fields with ``if``/``then``);
the rules between values it cannot state (distances rising, times in order,
references to stops, quotas within the seats) are listed in each model's
description and refused as ``inconsistent``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Annotated, Self

from pydantic import (
    Field,
    RootModel,
    field_validator,
    model_validator,
)

from protocol.fields import (
    MAX_STOPS,
    WHOLE,
    FarePerKm,
    GateGroup,
    Km,
    Name,
    Places,
    PositiveCount,
    QuotaId,
    QuotaPurpose,
    QuotaShareMode,
    RequestModel,
    ServiceDate,
    StandingPolicy,
    Station,
    Timestamp,
    Train,
    absent,
    all_of,
    present,
    raise_inconsistencies,
    raise_problems,
    repeats,
    when,
    whole,
)
from protocol.ids import SeatClass


class StopSpec(RequestModel):
    """One stop of a train run: where, how far from the origin, when, and where it checks in.

    ``gate_group`` is the station's gate group (检票口, e.g. ``A3``) where passengers
    boarding here check in for this train; the last stop has none (nobody boards there).
    """

    station: Station
    name: Name
    km: Km
    arrive: Timestamp | None = None
    depart: Timestamp | None = None
    gate_group: GateGroup | None = None  # None: any gate of the station admits

    def label(self, index: int) -> str:
        """How messages name this stop, e.g. ``stops[3] (JGK)``."""
        return f"stops[{index}] ({self.station})"


CoachNumber = Annotated[int, whole(1, 99), WHOLE]
CoachSeats = Annotated[int, whole(1, 200), WHOLE]
Percent = Annotated[int, whole(0, 100), WHOLE]
DaysBefore = Annotated[int, whole(0, 365), WHOLE]
MinutesBefore = Annotated[int, whole(0, 7 * 24 * 60), WHOLE]


class CoachSpec(RequestModel):
    """One coach: its number on the train, its seat class and how many seats it has."""

    coach: CoachNumber
    seat_class: SeatClass = Field(alias="class")
    seats: CoachSeats


class ReuseSpec(RequestModel):
    """Seat reuse policy: whether, where not, and how often a sold seat's remainder is resold."""

    enabled: bool = Field(default=True, strict=True)
    no_reuse_stations: list[Station] = Field(default_factory=list)
    max_splits: PositiveCount | None = None  # None = multiple reuse, 1 = one-time reuse


_NOT_SHARED = {"mode": {"const": "none"}}


class ShareSpec(RequestModel):
    """With whom a quota is shared: nobody, the whole route, a station group or listed stations.

    ``group`` is given with mode group only; ``stations`` (not empty) with mode stations only.
    """

    model_config = all_of(
        when("mode", ["group"], present("group"), absent("group")),
        when(
            "mode",
            ["stations"],
            {"required": ["stations"], "properties": {"stations": {"minItems": 1}}},
            {"properties": {"stations": {"maxItems": 0}}},
        ),
    )

    mode: QuotaShareMode = "none"
    group: QuotaId | None = None  # a name in the run's groups
    stations: list[Station] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_mode(self) -> Self:
        problems: list[str] = []
        if self.mode == "group" and not self.group:
            problems.append("share mode 'group' needs a group name")
        if self.mode != "group" and self.group is not None:
            problems.append(f"share group is only used with mode 'group', not {self.mode!r}")
        if self.mode == "stations" and not self.stations:
            problems.append("share mode 'stations' needs a non-empty stations list")
        if self.mode != "stations" and self.stations:
            problems.append(f"share stations are only used with mode 'stations', not {self.mode!r}")
        raise_problems(problems)
        return self


class QuotaSpec(RequestModel):
    """A quota (票额): seats of one class set aside for a purpose, maybe restricted and shared.

    ``station`` is given with purpose station only; a common quota is not shared.
    """

    model_config = all_of(
        when("purpose", ["station"], present("station"), absent("station")),
        when("purpose", ["common"], {"properties": {"share": {"properties": _NOT_SHARED}}}, {}),
    )

    quota: QuotaId
    seat_class: SeatClass = Field(alias="class")
    seats: PositiveCount
    purpose: QuotaPurpose
    station: Station | None = None
    min_dest: Station | None = None  # restricted-sale segment: journeys end here or beyond
    share: ShareSpec = Field(default_factory=ShareSpec)

    @model_validator(mode="after")
    def _check_purpose(self) -> Self:
        problems: list[str] = []
        if self.purpose == "station" and self.station is None:
            problems.append("a quota with purpose 'station' needs a station")
        if self.purpose != "station" and self.station is not None:
            problems.append(f"station is only used with purpose 'station', not {self.purpose!r}")
        if self.purpose == "common" and self.share.mode != "none":
            problems.append("a common quota is sold everywhere already and cannot be shared")
        raise_problems(problems)
        return self

    def label(self, index: int) -> str:
        """How messages name this quota, e.g. ``quotas[1] (jinan_ze)``."""
        return f"quotas[{index}] ({self.quota})"


class PreallocationSpec(RequestModel):
    """Automatic pre-allocation settings of one train run."""

    share_percent: Percent = 30
    opens_days_before: DaysBefore = 15
    release_minutes_before: MinutesBefore = 120


class TrainRunSpec(RequestModel):
    """A train run to load (body of ``POST /v1/train-runs``): route, coaches, fares, policies.

    Not stated by the schema: km rise from 0 at the first stop; each station is
    called at once; the first stop has ``depart``, the last only ``arrive`` (and no
    ``gate_group``), the others both, and times never go back; the first departure
    is on the service date; coach numbers are unique; every class with coaches has
    a fare; standing places, quotas and ``no_reuse_stations`` name classes and
    stops of this train; quota ids are unique; a quota's ``min_dest`` comes after
    its boarding stop; a share group is defined in ``groups``; quotas of a class
    take at most its seats.
    """

    train: Train
    date: ServiceDate  # service date = departure date at the first stop
    stops: list[StopSpec] = Field(min_length=2, max_length=MAX_STOPS)
    coaches: list[CoachSpec] = Field(min_length=1)
    standing: dict[SeatClass, Places] = Field(default_factory=dict)
    fares: dict[SeatClass, FarePerKm]  # fen per km
    reuse: ReuseSpec = Field(default_factory=ReuseSpec)
    standing_policy: StandingPolicy = "when_sold_out"
    quotas: list[QuotaSpec] = Field(default_factory=list)
    groups: dict[QuotaId, Annotated[list[Station], Field(min_length=1)]] = Field(
        default_factory=dict,
        # pydantic states the key pattern as patternProperties: no other key is allowed either
        json_schema_extra={"additionalProperties": False},
    )
    preallocation: PreallocationSpec = Field(default_factory=PreallocationSpec)

    @field_validator("stops")
    @classmethod
    def _check_stops(cls, stops: list[StopSpec]) -> list[StopSpec]:
        problems = [p for i, stop in enumerate(stops) for p in _stop_problems(stop, i, len(stops))]
        problems += _route_problems(stops)
        raise_inconsistencies(problems)
        return stops

    @field_validator("coaches")
    @classmethod
    def _check_coaches(cls, coaches: list[CoachSpec]) -> list[CoachSpec]:
        numbers = [coach.coach for coach in coaches]
        problems = [
            f"coaches[{index}]: coach {numbers[index]} is already coaches[{first}]"
            for index, first in repeats(numbers)
        ]
        raise_inconsistencies(problems)
        return coaches

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        problems = [
            *self._service_date_problems(),
            *self._class_problems(),
            *self._reuse_problems(),
            *self._quota_problems(),
        ]
        raise_inconsistencies(problems)
        return self

    def stop_index(self, station: str) -> int | None:
        """Index of a station among the stops, or None when the train does not call there."""
        for index, stop in enumerate(self.stops):
            if stop.station == station:
                return index
        return None

    def seats_by_class(self) -> dict[SeatClass, int]:
        """Number of seats of each class that has coaches."""
        seats: dict[SeatClass, int] = defaultdict(int)
        for coach in self.coaches:
            seats[coach.seat_class] += coach.seats
        return dict(seats)

    def _service_date_problems(self) -> Iterator[str]:
        depart = self.stops[0].depart
        if depart is not None and depart.date() != self.date:
            yield (
                f"{self.stops[0].label(0)}: departs on {depart.date()} "
                f"but the service date is {self.date}"
            )

    def _class_problems(self) -> Iterator[str]:
        coaches_of: dict[SeatClass, list[int]] = defaultdict(list)
        for coach in self.coaches:
            coaches_of[coach.seat_class].append(coach.coach)
        for seat_class, numbers in coaches_of.items():
            if seat_class not in self.fares:
                listed = ", ".join(map(str, numbers))
                yield f"fares: no fare for class {seat_class}, which has coaches {listed}"
        for seat_class in self.standing:
            if seat_class not in coaches_of:
                yield f"standing: class {seat_class} has no coaches on this train"

    def _reuse_problems(self) -> Iterator[str]:
        for index, station in enumerate(self.reuse.no_reuse_stations):
            if self.stop_index(station) is None:
                yield f"reuse.no_reuse_stations[{index}]: {station} is not a stop of this train"

    def _quota_problems(self) -> Iterator[str]:
        for index, first in repeats(quota.quota for quota in self.quotas):
            yield f"{self.quotas[index].label(index)}: quota id already used by quotas[{first}]"
        for index, quota in enumerate(self.quotas):
            yield from (f"{quota.label(index)}: {p}" for p in self._one_quota_problems(quota))
        yield from self._quota_seat_problems()

    def _one_quota_problems(self, quota: QuotaSpec) -> Iterator[str]:
        board = 0  # origin and common quotas board anywhere from the first stop
        if quota.station is not None:
            index = self.stop_index(quota.station)
            if index is None:
                yield f"station {quota.station} is not a stop of this train"
            elif index == len(self.stops) - 1:
                yield f"station {quota.station} is the last stop; nobody boards there"
            board = index or 0
        if quota.min_dest is not None:
            dest = self.stop_index(quota.min_dest)
            if dest is None:
                yield f"min_dest {quota.min_dest} is not a stop of this train"
            elif dest <= board:
                yield f"min_dest {quota.min_dest} must come after the boarding stop"
        if quota.share.group is not None and quota.share.group not in self.groups:
            defined = ", ".join(sorted(self.groups)) or "none"
            yield f"share group {quota.share.group!r} is not in groups (defined: {defined})"

    def _quota_seat_problems(self) -> Iterator[str]:
        seats = self.seats_by_class()
        taken: Counter[SeatClass] = Counter()
        for quota in self.quotas:
            taken[quota.seat_class] += quota.seats
        for seat_class, wanted in taken.items():
            have = seats.get(seat_class, 0)
            if have == 0:
                yield f"quotas: class {seat_class} has quotas but no coaches on this train"
            elif wanted > have:
                yield f"quotas: class {seat_class} quotas take {wanted} seats, the train has {have}"


def _stop_problems(stop: StopSpec, index: int, count: int) -> list[str]:
    """Which times a stop must, may and must not have, by its place on the route."""
    where = stop.label(index)
    problems: list[str] = []
    if index < count - 1 and stop.depart is None:
        problems.append(f"{where}: needs a depart time (only the last stop has none)")
    if index > 0 and stop.arrive is None:
        problems.append(f"{where}: needs an arrive time (only the first stop may omit it)")
    if index == count - 1 and stop.depart is not None:
        problems.append(f"{where}: the last stop must not have a depart time")
    if index == count - 1 and stop.gate_group is not None:
        problems.append(f"{where}: the last stop must not have a gate group (nobody boards there)")
    if stop.arrive and stop.depart and stop.arrive > stop.depart:
        problems.append(f"{where}: arrives at {stop.arrive} after departing at {stop.depart}")
    return problems


def _route_problems(stops: list[StopSpec]) -> list[str]:
    """Distances rise from 0, times never go back, and no station is called at twice."""
    problems: list[str] = []
    if stops[0].km != 0:
        problems.append(f"{stops[0].label(0)}: km must be 0 at the first stop, got {stops[0].km}")
    for index, first in repeats(stop.station for stop in stops):
        problems.append(f"{stops[index].label(index)}: station already called at stops[{first}]")
    for index in range(1, len(stops)):
        problems += _leg_problems(stops, index)
    return problems


def _leg_problems(stops: list[StopSpec], index: int) -> list[str]:
    """Problems of the leg from stops[index - 1] to stops[index]."""
    prev, stop = stops[index - 1], stops[index]
    where, before = stop.label(index), prev.label(index - 1)
    problems: list[str] = []
    if stop.km <= prev.km:
        problems.append(f"{where}: km {stop.km} must be greater than {prev.km} at {before}")
    left = prev.depart or prev.arrive
    came = stop.arrive or stop.depart
    if left and came and came < left:
        problems.append(f"{where}: arrives at {came} before leaving {before} at {left}")
    return problems


class Timetable(RootModel[list[TrainRunSpec]]):
    """A timetable file: a JSON list of train runs, each (train, date) at most once."""

    @model_validator(mode="after")
    def _check_unique_runs(self) -> Self:
        runs = self.root
        problems = [
            f"[{index}]: {runs[index].train} on {runs[index].date} is already [{first}]"
            for index, first in repeats((run.train, run.date) for run in runs)
        ]
        raise_inconsistencies(problems)
        return self
