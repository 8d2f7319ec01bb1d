"""Models of the central HTTP API, shared by central and the units.

Every body that crosses the wire is one of these pydantic models, so both sides
reject the same bad input with the same words. Requests forbid unknown keys (a
misspelt field is an error, not a silent default); responses ignore them, so a
unit keeps working against a newer central. Money is integer fen, times carry a
timezone offset, and the keyword-like fields travel as ``class``, ``from`` and
``to`` (Python names ``seat_class``, ``from_station``, ``to_station``);
``model_dump()`` writes the wire names.

Validation messages say where the problem is (``stops[3] (JGK): ...``,
``quotas[1] (jinan_ze): ...``) and what is wrong. They never echo ID numbers or
card numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    RootModel,
    StringConstraints,
    field_validator,
    model_validator,
)

from protocol.ids import (
    OrderId,
    SeatClass,
    StationCode,
    TicketId,
    TrainNumber,
    station_code,
    ticket_id,
    train_number,
)

MAX_STOPS = 62  # the inventory keeps one bit per segment in a 61-bit mask
MAX_PASSENGERS = 5
MAX_KM = 20_000  # longer than any railway route
MAX_FARE_FEN_PER_KM = 10_000
MAX_PLACES = 10_000  # standing places of one class
EARLIEST_YEAR = 2000
LATEST_YEAR = 2178  # the ticket token counts service days from 2000 up to 2179-06-06
QUOTA_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
ID_NUMBER_RE = re.compile(r"^[0-9A-Z]{4,32}$")
MAX_VISIBLE_CARD_DIGITS = 10  # first six and last four, as card schemes allow
MASKED_CARD_RE = re.compile(r"^[0-9* ]{4,32}$")


def quota_id(text: str) -> str:
    """Validate a quota id: 1-32 letters, digits, ``_`` or ``-``."""
    if not QUOTA_ID_RE.match(text):
        raise ValueError(f"quota id must be 1-32 letters, digits, '_' or '-', got {text!r}")
    return text


def aware(value: dt.datetime) -> dt.datetime:
    """Reject a naive datetime: a time without an offset means nothing across units."""
    if value.utcoffset() is None:
        raise ValueError(
            "datetime must carry a timezone offset, e.g. 2026-12-01T08:00:00+08:00, "
            f"got {value.isoformat()}"
        )
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"time must lie in the years {EARLIEST_YEAR}-{LATEST_YEAR}")
    return value


def service_date(value: dt.date) -> dt.date:
    """A service date the ticket token can carry."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"service date must lie in the years {EARLIEST_YEAR}-{LATEST_YEAR}")
    return value


def id_number(text: str) -> str:
    """Validate a passenger ID number, upper-cased so ``...123x`` and ``...123X`` are one ID."""
    upper = text.strip().upper()
    if not ID_NUMBER_RE.match(upper):
        # the number itself stays out of the message: it is personal data
        raise ValueError(f"id_number must be 4-32 letters and digits, got {len(text)} characters")
    return upper


def masked_card(text: str) -> str:
    """Validate a masked card number such as ``622848******1234``; refuse anything like a PAN."""
    digits = sum(ch.isdigit() for ch in text)
    if digits > MAX_VISIBLE_CARD_DIGITS:
        # never echo it: it may be a full card number
        raise ValueError(
            f"card_masked shows {digits} digits; at most {MAX_VISIBLE_CARD_DIGITS} may be "
            "visible (e.g. 622848******1234), never send a full card number"
        )
    if not MASKED_CARD_RE.match(text) or "*" not in text:
        raise ValueError("card_masked must be digits with '*' masking, e.g. 622848******1234")
    return text


Station = Annotated[StationCode, AfterValidator(station_code)]
Train = Annotated[TrainNumber, AfterValidator(train_number)]
TicketRef = Annotated[TicketId, AfterValidator(ticket_id)]
QuotaId = Annotated[str, AfterValidator(quota_id)]
Timestamp = Annotated[dt.datetime, AfterValidator(aware)]
# integers are strict: 12.0, "12" or true are mistakes, not twelve
FenAmount = Annotated[int, Field(strict=True, ge=0)]
FenDelta = Annotated[int, Field(strict=True)]
Count = Annotated[int, Field(strict=True, ge=0)]
PositiveCount = Annotated[int, Field(strict=True, ge=1)]
# Upper bounds keep every figure inside the store's integer columns and the token.
Km = Annotated[int, Field(strict=True, ge=0, le=MAX_KM)]
FarePerKm = Annotated[int, Field(strict=True, ge=1, le=MAX_FARE_FEN_PER_KM)]
Places = Annotated[int, Field(strict=True, ge=0, le=MAX_PLACES)]
ServiceDate = Annotated[dt.date, AfterValidator(service_date)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
IdNumber = Annotated[str, AfterValidator(id_number)]
MaskedCard = Annotated[str, AfterValidator(masked_card)]

QuotaPurpose = Literal["origin", "station", "common"]
QuotaShareMode = Literal["none", "route", "group", "stations"]
StandingPolicy = Literal["when_sold_out", "never"]
Channel = Literal["window", "tvm", "agent", "phone", "internet", "sms"]
PaymentMethod = Literal["card", "cash", "mobile"]
OrderStatus = Literal["held", "issued", "cancelled", "expired"]

# channels sold at a place, whose station decides quotas and remote-station tickets
STATION_CHANNELS: frozenset[str] = frozenset({"window", "tvm", "agent"})


class RequestModel(BaseModel):
    """Base of every request body: unknown keys are errors."""

    model_config = ConfigDict(
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class ResponseModel(BaseModel):
    """Base of every response body: unknown keys are ignored so old units read new answers."""

    model_config = ConfigDict(
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


def _repeats(keys: Iterable[Hashable]) -> Iterator[tuple[int, int]]:
    """Pairs (index, index of the first occurrence) for every key seen before."""
    first: dict[Hashable, int] = {}
    for index, key in enumerate(keys):
        if key in first:
            yield index, first[key]
        first.setdefault(key, index)


def _raise_problems(problems: list[str]) -> None:
    """Report every problem at once, so an operator fixes a timetable in one pass."""
    if problems:
        raise ValueError("; ".join(problems))


# ---------------------------------------------------------------- timetable


class StopSpec(RequestModel):
    """One stop of a train run: where, how far from the origin, and when."""

    station: Station
    name: Name
    km: Km
    arrive: Timestamp | None = None
    depart: Timestamp | None = None

    def label(self, index: int) -> str:
        """How messages name this stop, e.g. ``stops[3] (JGK)``."""
        return f"stops[{index}] ({self.station})"


class CoachSpec(RequestModel):
    """One coach: its number on the train, its seat class and how many seats it has."""

    coach: Annotated[int, Field(strict=True, ge=1, le=99)]
    seat_class: SeatClass = Field(alias="class")
    seats: Annotated[int, Field(strict=True, ge=1, le=200)]


class ReuseSpec(RequestModel):
    """Seat reuse policy: whether, where not, and how often a sold seat's remainder is resold."""

    enabled: bool = Field(default=True, strict=True)
    no_reuse_stations: list[Station] = Field(default_factory=list)
    max_splits: PositiveCount | None = None  # None = multiple reuse, 1 = one-time reuse


class ShareSpec(RequestModel):
    """With whom a quota is shared: nobody, the whole route, a station group or listed stations."""

    mode: QuotaShareMode = "none"
    group: str | None = None
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
        _raise_problems(problems)
        return self


class QuotaSpec(RequestModel):
    """A quota (票额): seats of one class set aside for a purpose, maybe restricted and shared."""

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
        _raise_problems(problems)
        return self

    def label(self, index: int) -> str:
        """How messages name this quota, e.g. ``quotas[1] (jinan_ze)``."""
        return f"quotas[{index}] ({self.quota})"


class PreallocationSpec(RequestModel):
    """Automatic pre-allocation settings of one train run."""

    share_percent: Annotated[int, Field(strict=True, ge=0, le=100)] = 30
    opens_days_before: Annotated[int, Field(strict=True, ge=0, le=365)] = 15
    release_minutes_before: Annotated[int, Field(strict=True, ge=0, le=7 * 24 * 60)] = 120


class TrainRunSpec(RequestModel):
    """A train run to load (body of ``POST /v1/train-runs``): route, coaches, fares, policies."""

    train: Train
    date: ServiceDate  # service date = departure date at the first stop
    stops: list[StopSpec] = Field(min_length=2, max_length=MAX_STOPS)
    coaches: list[CoachSpec] = Field(min_length=1)
    standing: dict[SeatClass, Places] = Field(default_factory=dict)
    fares: dict[SeatClass, FarePerKm]  # fen per km
    reuse: ReuseSpec = Field(default_factory=ReuseSpec)
    standing_policy: StandingPolicy = "when_sold_out"
    quotas: list[QuotaSpec] = Field(default_factory=list)
    groups: dict[QuotaId, list[Station]] = Field(default_factory=dict)
    preallocation: PreallocationSpec = Field(default_factory=PreallocationSpec)

    @field_validator("stops")
    @classmethod
    def _check_stops(cls, stops: list[StopSpec]) -> list[StopSpec]:
        problems = [p for i, stop in enumerate(stops) for p in _stop_problems(stop, i, len(stops))]
        problems += _route_problems(stops)
        _raise_problems(problems)
        return stops

    @field_validator("coaches")
    @classmethod
    def _check_coaches(cls, coaches: list[CoachSpec]) -> list[CoachSpec]:
        numbers = [coach.coach for coach in coaches]
        problems = [
            f"coaches[{index}]: coach {numbers[index]} is already coaches[{first}]"
            for index, first in _repeats(numbers)
        ]
        _raise_problems(problems)
        return coaches

    @field_validator("groups")
    @classmethod
    def _check_groups(cls, groups: dict[str, list[StationCode]]) -> dict[str, list[StationCode]]:
        problems = [
            f"groups[{name!r}]: a group needs at least one station"
            for name, members in groups.items()
            if not members
        ]
        _raise_problems(problems)
        return groups

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        problems = [
            *self._service_date_problems(),
            *self._class_problems(),
            *self._reuse_problems(),
            *self._quota_problems(),
        ]
        _raise_problems(problems)
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
        for index, first in _repeats(quota.quota for quota in self.quotas):
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
    if stop.arrive and stop.depart and stop.arrive > stop.depart:
        problems.append(f"{where}: arrives at {stop.arrive} after departing at {stop.depart}")
    return problems


def _route_problems(stops: list[StopSpec]) -> list[str]:
    """Distances rise from 0, times never go back, and no station is called at twice."""
    problems: list[str] = []
    if stops[0].km != 0:
        problems.append(f"{stops[0].label(0)}: km must be 0 at the first stop, got {stops[0].km}")
    for index, first in _repeats(stop.station for stop in stops):
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
            for index, first in _repeats((run.train, run.date) for run in runs)
        ]
        _raise_problems(problems)
        return self


# ---------------------------------------------------------------- journeys and availability


def _journey_problems(from_station: str, to_station: str) -> list[str]:
    if from_station == to_station:
        return [f"from and to are both {from_station}; a journey needs two different stations"]
    return []


class JourneySpec(RequestModel):
    """A journey on one train run: train, service date, from, to and seat class."""

    train: Train
    date: dt.date
    from_station: Station = Field(alias="from")
    to_station: Station = Field(alias="to")
    seat_class: SeatClass = Field(alias="class")

    @model_validator(mode="after")
    def _check_journey(self) -> Self:
        _raise_problems(_journey_problems(self.from_station, self.to_station))
        return self


class AvailabilityClass(ResponseModel):
    """Remaining seats and standing places of one class for a journey, and its price."""

    seat_class: SeatClass = Field(alias="class")
    seats: Count
    standing: Count
    price_fen: FenAmount


class AvailabilityResponse(ResponseModel):
    """What is left on a train run between two stops."""

    train: Train
    date: dt.date
    from_station: Station = Field(alias="from")
    to_station: Station = Field(alias="to")
    classes: list[AvailabilityClass]


# ---------------------------------------------------------------- orders and tickets


class PassengerSpec(RequestModel):
    """A real-name passenger: name and ID number."""

    model_config = ConfigDict(hide_input_in_errors=True)  # ID numbers are personal data

    name: Name
    id_number: IdNumber


class OrderRequest(JourneySpec):
    """Hold seats for 1-5 passengers on one journey; the order is then paid or expires."""

    # the outermost model decides whether errors echo input, and passengers carry ID numbers
    model_config = ConfigDict(hide_input_in_errors=True)

    passengers: list[PassengerSpec] = Field(min_length=1, max_length=MAX_PASSENGERS)
    channel: Channel
    station: Station | None = None  # the selling station

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        problems: list[str] = []
        if self.channel in STATION_CHANNELS and self.station is None:
            problems.append(
                f"station (the selling station) is required for channel {self.channel!r}"
            )
        # one ID may not hold two tickets for overlapping journeys; the ID stays out of the text
        ids = (passenger.id_number for passenger in self.passengers)
        problems += [
            f"passengers[{index}]: same ID number as passengers[{first}]"
            for index, first in _repeats(ids)
        ]
        _raise_problems(problems)
        return self


class TicketView(ResponseModel):
    """One ticket as central reports it; ``token`` is the signed QR payload once issued."""

    ticket_id: TicketRef
    passenger: str
    coach: int | None = None  # None for a standing ticket
    seat: int | None = None
    price_fen: FenAmount
    status: str
    token: str | None = None
    train: Train
    date: dt.date
    from_station: Station = Field(alias="from")
    to_station: Station = Field(alias="to")
    seat_class: SeatClass = Field(alias="class")
    remote: bool = False  # a remote-station ticket (异地票)


class PaymentRequest(RequestModel):
    """Pay a held order in one go: one method, the whole amount, no split."""

    model_config = ConfigDict(hide_input_in_errors=True)  # may carry card data

    method: PaymentMethod
    amount_fen: FenAmount
    reference: Reference
    acquirer: Reference | None = None  # the acquiring bank; refunds go back through it
    card_masked: MaskedCard | None = None
    # a TVM warns when a card-paid journey starts where card refunds are not taken;
    # the passenger's confirmation is sent here
    confirm_card_station: bool = Field(default=False, strict=True)

    @model_validator(mode="after")
    def _check_card(self) -> Self:
        problems: list[str] = []
        if self.method == "card" and self.acquirer is None:
            problems.append("acquirer is required when method is 'card'")
        if self.method != "card" and self.card_masked is not None:
            problems.append(f"card_masked is only used with method 'card', not {self.method!r}")
        _raise_problems(problems)
        return self


class PaymentView(ResponseModel):
    """How an order was paid."""

    method: PaymentMethod
    amount_fen: FenAmount
    reference: str
    acquirer: str | None = None
    card_masked: MaskedCard | None = None
    paid_at: Timestamp


class OrderView(ResponseModel):
    """An order, its tickets and, once paid, its payment."""

    order_id: OrderId
    status: OrderStatus
    expires_at: Timestamp  # when a held order lets its seats go
    tickets: list[TicketView]
    total_fen: FenAmount
    payment: PaymentView | None = None


class RefundResponse(ResponseModel):
    """The outcome of a refund: the fee kept and the amount paid back."""

    ticket_id: TicketRef
    fee_fen: FenAmount
    refund_fen: FenAmount
    status: str
    method: PaymentMethod | None = None  # the money goes back the way it came
    acquirer: str | None = None


class ChangeRequest(JourneySpec):
    """Change a ticket to another journey; the passenger stays the same.

    The holder's ID number is asked again: it proves the holder is present,
    and the new ticket's token is bound to it (central keeps no raw ID numbers).
    """

    model_config = ConfigDict(hide_input_in_errors=True)

    id_number: IdNumber


class ChangeResponse(ResponseModel):
    """The new ticket of a change and what it costs."""

    old_ticket_id: TicketRef
    ticket: TicketView
    price_difference_fen: FenDelta  # new minus old; positive = the passenger pays more
    fee_fen: FenAmount


# ---------------------------------------------------------------- operator


class AdjustmentRequest(RequestModel):
    """Move seats between quotas (席位临时调整).

    ``to_quota`` may name a new quota, described by ``new_quota``.
    """

    from_quota: QuotaId
    to_quota: QuotaId
    seats: PositiveCount
    reason: Reason
    new_quota: QuotaSpec | None = None

    @model_validator(mode="after")
    def _check_target(self) -> Self:
        problems: list[str] = []
        if self.from_quota == self.to_quota:
            problems.append(f"from_quota and to_quota are both {self.from_quota!r}")
        new = self.new_quota
        if new is not None and new.quota != self.to_quota:
            problems.append(f"new_quota.quota {new.quota!r} must equal to_quota {self.to_quota!r}")
        if new is not None and new.seats != self.seats:
            problems.append(
                f"new_quota.seats ({new.seats}) must equal seats ({self.seats}): "
                "a new quota holds exactly the seats moved into it"
            )
        _raise_problems(problems)
        return self


class StandingAdjustmentRequest(RequestModel):
    """Set the standing capacity per segment of one class."""

    seat_class: SeatClass = Field(alias="class")
    capacity: Places
    reason: Reason


class ForecastEntry(RequestModel):
    """Forecast passengers of one origin-destination pair and class."""

    from_station: Station = Field(alias="from")
    to_station: Station = Field(alias="to")
    seat_class: SeatClass = Field(alias="class")
    passengers: Count

    @model_validator(mode="after")
    def _check_journey(self) -> Self:
        _raise_problems(_journey_problems(self.from_station, self.to_station))
        return self


class PreallocationRunRequest(RequestModel):
    """Run automatic pre-allocation now; without a forecast central uses its sales statistics."""

    forecast: list[ForecastEntry] | None = None

    @field_validator("forecast")
    @classmethod
    def _check_unique(cls, forecast: list[ForecastEntry] | None) -> list[ForecastEntry] | None:
        keys = ((e.from_station, e.to_station, e.seat_class) for e in forecast or [])
        problems = [
            f"forecast[{index}]: same from, to and class as forecast[{first}]"
            for index, first in _repeats(keys)
        ]
        _raise_problems(problems)
        return forecast


class AuditRecord(ResponseModel):
    """One audited operator action, e.g. a quota adjustment."""

    audit_id: int
    at: Timestamp
    actor: str
    action: str
    train: Train | None = None
    date: dt.date | None = None
    reason: str | None = None
    detail: dict[str, JsonValue] = Field(default_factory=dict)


class StatsRow(ResponseModel):
    """Sales of one bucket: tickets issued and money taken net of refunds (may be negative)."""

    key: str
    tickets: Count
    revenue_fen: FenDelta


class SalesStatsResponse(ResponseModel):
    """Sales broken down by hour, selling station, channel and origin-destination pair."""

    by_hour: list[StatsRow]
    by_station: list[StatsRow]
    by_channel: list[StatsRow]
    by_od: list[StatsRow]


# ---------------------------------------------------------------- errors and keys


class ErrorBody(ResponseModel):
    """A stable error code (see ``protocol.errors.ErrorCode``) and a message for people."""

    code: str  # a plain string, so an old unit still reads a code added later
    message: str


class ErrorResponse(ResponseModel):
    """The body of every error answer."""

    error: ErrorBody


class PublicKeyView(ResponseModel):
    """A ticket-signing public key, so gates verify tokens offline."""

    key_id: int
    algorithm: str
    public_key: str


class KeysResponse(ResponseModel):
    """Every ticket-signing public key a unit should trust."""

    keys: list[PublicKeyView]
