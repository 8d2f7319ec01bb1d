"""Models of the central HTTP API, shared by central and the units.

Every body that crosses the wire is one of these pydantic models (the
timetable's are in ``protocol.timetable``), so both sides reject the same bad
input with the same words. The keyword-like fields travel as ``class``,
``from`` and ``to`` (Python names ``seat_class``, ``from_station``,
``to_station``); ``model_dump()`` writes the wire names. Validation messages
never echo ID numbers or card numbers. Conditional fields (a card payment's
``acquirer``, a selling station for station channels) are stated in the JSON
schema with ``if``/``then``; rules between values it cannot state are in each
model's description and refused as ``inconsistent``.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import (
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

from protocol.fields import (
    MAX_PASSENGERS,
    STATION_CHANNELS,
    Channel,
    Count,
    DeviceId,
    DeviceKind,
    FenAmount,
    FenDelta,
    GateGroup,
    IdNumber,
    MaskedCard,
    Name,
    OrderRef,
    OrderStatus,
    PaymentMethod,
    Places,
    PositiveCount,
    QuotaId,
    Reason,
    Reference,
    RequestModel,
    ResponseModel,
    ServiceDate,
    Station,
    TicketRef,
    Timestamp,
    Train,
    absent,
    all_of,
    present,
    raise_inconsistencies,
    raise_problems,
    repeats,
    when,
)
from protocol.ids import SeatClass
from protocol.timetable import QuotaSpec

UNIT_KINDS = ("gate", "tvm")  # devices that stand at a station (the others are channels)

# ---------------------------------------------------------------- journeys and availability


def _journey_problems(from_station: str, to_station: str) -> list[str]:
    if from_station == to_station:
        return [f"from and to are both {from_station}; a journey needs two different stations"]
    return []


class JourneySpec(RequestModel):
    """A journey on one train run: train, service date, from, to and seat class.

    Not stated by the schema: ``from`` and ``to`` differ.
    """

    train: Train
    date: ServiceDate
    from_station: Station = Field(alias="from")
    to_station: Station = Field(alias="to")
    seat_class: SeatClass = Field(alias="class")

    @model_validator(mode="after")
    def _check_journey(self) -> Self:
        raise_inconsistencies(_journey_problems(self.from_station, self.to_station))
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
    date: ServiceDate
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
    """Hold seats for 1-5 passengers on one journey; the order is then paid or expires.

    ``station`` (the selling station) is required for the channels window, tvm and
    agent. Not stated by the schema: ``from`` and ``to`` differ; no ID number twice
    (letters compared upper-cased).
    """

    # the outermost model decides whether errors echo input, and passengers carry ID numbers
    model_config = ConfigDict(
        hide_input_in_errors=True,
        **all_of(when("channel", STATION_CHANNELS, present("station"), {})),
    )

    passengers: list[PassengerSpec] = Field(min_length=1, max_length=MAX_PASSENGERS)
    channel: Channel
    station: Station | None = None  # the selling station

    @model_validator(mode="after")
    def _check_order(self) -> Self:
        if self.channel in STATION_CHANNELS and self.station is None:
            raise_problems(
                [f"station (the selling station) is required for channel {self.channel!r}"]
            )
        # one ID may not hold two tickets for overlapping journeys; the ID stays out of the text
        ids = (passenger.id_number for passenger in self.passengers)
        raise_inconsistencies(
            [
                f"passengers[{index}]: same ID number as passengers[{first}]"
                for index, first in repeats(ids)
            ]
        )
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
    date: ServiceDate
    from_station: Station = Field(alias="from")
    to_station: Station = Field(alias="to")
    seat_class: SeatClass = Field(alias="class")
    remote: bool = False  # a remote-station ticket (异地票)
    replaced_by: TicketRef | None = None  # a changed ticket: the ticket it was changed to


class PaymentRequest(RequestModel):
    """Pay a held order in one go: one method, the whole amount, no split.

    With ``method`` card, ``acquirer`` is required; ``card_masked`` is only sent with card.
    """

    model_config = ConfigDict(
        hide_input_in_errors=True,  # may carry card data
        **all_of(when("method", ["card"], present("acquirer"), absent("card_masked"))),
    )

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
        raise_problems(problems)
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

    order_id: OrderRef
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


class RefundQuote(ResponseModel):
    """What a refund of the ticket would keep and pay back now, before the passenger confirms."""

    ticket_id: TicketRef
    price_fen: FenAmount
    fee_fen: FenAmount
    refund_fen: FenAmount
    method: PaymentMethod | None = None
    acquirer: str | None = None


class ChangeQuote(ResponseModel):
    """What a change of the ticket to another journey would cost now, before confirming."""

    ticket_id: TicketRef
    old_price_fen: FenAmount
    new_price_fen: FenAmount
    price_difference_fen: FenDelta  # positive: the passenger pays more
    fee_fen: FenAmount


class ChangeRequest(JourneySpec):
    """Change a ticket to another journey; the passenger stays the same.

    The holder's ID number is asked again: it proves the holder is present,
    and the new ticket's token is bound to it (central keeps no raw ID numbers).
    Not stated by the schema: ``from`` and ``to`` differ.
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

    ``to_quota`` may name a new quota, described by ``new_quota``. Not stated by
    the schema: ``from_quota`` and ``to_quota`` differ; ``new_quota.quota`` equals
    ``to_quota`` and ``new_quota.seats`` equals ``seats``.
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
        raise_inconsistencies(problems)
        return self


class StandingAdjustmentRequest(RequestModel):
    """Set the standing capacity per segment of one class."""

    seat_class: SeatClass = Field(alias="class")
    capacity: Places
    reason: Reason


class ForecastEntry(RequestModel):
    """Forecast passengers of one origin-destination pair and class.

    Not stated by the schema: ``from`` and ``to`` differ.
    """

    from_station: Station = Field(alias="from")
    to_station: Station = Field(alias="to")
    seat_class: SeatClass = Field(alias="class")
    passengers: Count

    @model_validator(mode="after")
    def _check_journey(self) -> Self:
        raise_inconsistencies(_journey_problems(self.from_station, self.to_station))
        return self


class PreallocationRunRequest(RequestModel):
    """Run automatic pre-allocation now; without a forecast central uses its sales statistics.

    Not stated by the schema: each (from, to, class) at most once in ``forecast``.
    """

    forecast: list[ForecastEntry] | None = None

    @field_validator("forecast")
    @classmethod
    def _check_unique(cls, forecast: list[ForecastEntry] | None) -> list[ForecastEntry] | None:
        keys = ((e.from_station, e.to_station, e.seat_class) for e in forecast or [])
        problems = [
            f"forecast[{index}]: same from, to and class as forecast[{first}]"
            for index, first in repeats(keys)
        ]
        raise_inconsistencies(problems)
        return forecast


class AuditRecord(ResponseModel):
    """One audited operator action, e.g. a quota adjustment."""

    audit_id: int
    at: Timestamp
    actor: str
    action: str
    train: Train | None = None
    date: ServiceDate | None = None
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


# ---------------------------------------------------------------- devices


class DeviceRequest(RequestModel):
    """Register a device or selling channel (a TVM, a gate, a ticket window ...).

    A unit (``gate``, ``tvm``) belongs to a station: ``station`` is required for it.
    """

    model_config = all_of(when("kind", UNIT_KINDS, present("station"), {}))

    device_id: DeviceId
    kind: DeviceKind
    station: Station | None = None  # required for units (gate, tvm) and station channels
    gate_group: GateGroup | None = None
    direction: Literal["entry", "exit"] | None = None  # a gate fixed to one way; None: both
    # central checks the station when it registers (after a device that exists already: 409)


class DeviceCredential(ResponseModel):
    """A registered device and its bearer token, shown once."""

    device_id: str
    token: str
