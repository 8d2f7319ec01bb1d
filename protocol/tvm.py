"""What a ticket vending machine (TVM) and central say to each other, beyond selling.

A TVM sells through the selling API (orders, payment, refund, change) like
every channel. Besides, it asks which stations can be reached from its
station and which trains go there (journeys, with seats and fares), and it
may sell offline from an **emergency seat block** (应急售票): the operator
leases a TVM a number of seats of one class on one train run, for journeys
boarding at the TVM's station; the TVM keeps the block's seats and fares,
sells from it while central cannot be reached, signs those tickets with its
own key (central publishes the key to the gates of that station only), and
uploads each offline sale when central is back. Unsold block seats go back to
the train at the block's return time.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from protocol.fields import (
    WHOLE,
    DeviceId,
    FenAmount,
    IdNumber,
    MaskedCard,
    Name,
    PaymentMethod,
    Reference,
    RequestModel,
    ResponseModel,
    Station,
    TicketRef,
    Timestamp,
    Train,
    absent,
    all_of,
    explained,
    pattern_text,
    present,
    quoting,
    raise_problems,
    when,
    whole,
)
from protocol.ids import SeatClass

PUBLIC_KEY_PATTERN = r"^[0-9a-f]{64}$"  # an Ed25519 public key, hex
BLOCK_ID_PATTERN = r"^[0-9a-f]{24}$"
MAX_BLOCK_SEATS = 200
MAX_SALES_PER_UPLOAD = 200
MAX_PINYIN = 80  # letters of a romanised station name
FIRST_UNIT_KEY_ID = 128  # unit keys take ids 128..254; central's own keys count from 1
LAST_UNIT_KEY_ID = 254

BlockRef = Annotated[
    str,
    pattern_text(BLOCK_ID_PATTERN),
    explained(quoting("block id must be 24 lower-case hex digits")),
]


# ---------------------------------------------------------------- finding a train


# A station's name in the Latin alphabet, as central romanises it for the kiosk
Pinyin = Annotated[str, Field(pattern=r"^[A-Za-z]*$", max_length=MAX_PINYIN)]  # Nanjingnan
Initials = Annotated[str, Field(pattern=r"^[A-Z]*$", max_length=MAX_PINYIN)]  # NJN


class Destination(ResponseModel):
    """A station reachable from the asking station on a date."""

    code: Station
    name: str  # as the timetable names it (Chinese)
    pinyin: Pinyin = ""
    initials: Initials = ""


class DestinationsResponse(ResponseModel):
    """``GET /v1/stations/{station}/destinations?date=``."""

    station: Station
    station_name: str  # the asking station's own name, as the timetable has it
    station_pinyin: Pinyin = ""
    station_initials: Initials = ""
    date: dt.date
    destinations: list[Destination]


class JourneyClass(ResponseModel):
    """One seat class of one train for one journey: places sellable now and the fare."""

    seat_class: SeatClass = Field(alias="class")
    seats: int
    standing: int
    price_fen: FenAmount


class JourneyOption(ResponseModel):
    """A train that goes from ``from`` to ``to`` on the date, with what is left."""

    train: Train
    date: dt.date
    from_station: Station = Field(alias="from")
    to_station: Station = Field(alias="to")
    from_name: str
    to_name: str
    departs_at: Timestamp
    arrives_at: Timestamp
    classes: list[JourneyClass]


class JourneysResponse(ResponseModel):
    """``GET /v1/journeys?from=&to=&date=[&station=]``: trains by departure."""

    journeys: list[JourneyOption]


# ---------------------------------------------------------------- emergency seat blocks


class SigningKeyRequest(RequestModel):
    """A unit registers the public key it signs emergency tickets with."""

    public_key: str = Field(pattern=PUBLIC_KEY_PATTERN)


class SigningKeyView(ResponseModel):
    """The key id central gave a unit's key (published to its station's gates)."""

    key_id: int  # 128..254: unit keys; central's own keys count from 1
    public_key: str


class UnitKey(ResponseModel):
    """A unit's key as a gate's feed carries it, with its scope.

    A gate accepts a ticket signed with it only when the ticket boards at
    ``station`` (the gate's own: the feed publishes no other).
    """

    key_id: int
    public_key: str
    device_id: str
    station: Station


class BlockRequest(RequestModel):
    """The operator leases a TVM seats for offline sale: ``POST .../{train}/{date}/blocks``."""

    device_id: DeviceId
    seat_class: SeatClass = Field(alias="class")
    seats: Annotated[int, whole(1, MAX_BLOCK_SEATS), WHOLE]
    return_at: Timestamp  # unsold seats go back to the train then (at departure at the latest)


class BlockSeat(ResponseModel):
    """One seat of a block: free from the TVM's station to the end of the run."""

    coach: int
    seat: int


class BlockStop(ResponseModel):
    """A stop a block ticket may go to, with its arrival and the fare from the TVM's station."""

    code: Station
    name: str
    pinyin: Pinyin = ""
    initials: Initials = ""
    arrives_at: Timestamp
    price_fen: FenAmount


class BlockView(ResponseModel):
    """A lease of seats to one TVM, as the TVM keeps it for selling offline."""

    block_id: str
    device_id: str
    train: Train
    date: dt.date
    station: Station  # the TVM's: every block ticket boards here
    station_name: str
    station_pinyin: Pinyin = ""
    station_initials: Initials = ""
    departs_at: Timestamp
    seat_class: SeatClass = Field(alias="class")
    seats: list[BlockSeat]
    stops: list[BlockStop]  # where a block ticket may go, in order
    return_at: Timestamp
    status: Literal["active", "returned"]
    checkin_opens_minutes: int  # the token window central would give: the TVM gives the same
    valid_after_arrival_minutes: int


class BlocksResponse(ResponseModel):
    """``GET /v1/units/me/blocks``: this TVM's blocks still active."""

    blocks: list[BlockView]


class BlockPayment(RequestModel):
    """How an offline sale was paid (one method per sale).

    With ``method`` card, ``acquirer`` is required; ``card_masked`` is only sent with card.
    """

    model_config = ConfigDict(
        hide_input_in_errors=True,  # may carry card data
        **all_of(when("method", ["card"], present("acquirer"), absent("card_masked"))),
    )

    method: PaymentMethod
    reference: Reference
    acquirer: Reference | None = None  # the acquiring bank; a refund goes back through it
    card_masked: MaskedCard | None = None

    @model_validator(mode="after")
    def _check_card(self) -> Self:
        problems: list[str] = []
        if self.method == "card" and self.acquirer is None:
            problems.append("acquirer is required when method is 'card'")
        if self.method != "card" and self.card_masked is not None:
            problems.append(f"card_masked is only used with method 'card', not {self.method!r}")
        raise_problems(problems)
        return self


class BlockSale(RequestModel):
    """One ticket sold offline from a block, as the TVM issued and printed it."""

    model_config = ConfigDict(hide_input_in_errors=True)  # an ID number, card data

    block_id: BlockRef
    ticket_id: TicketRef  # made by the TVM
    coach: Annotated[int, whole(1, 255), WHOLE]
    seat: Annotated[int, whole(1, 65535), WHOLE]
    to_station: Station = Field(alias="to")
    passenger_name: Name
    id_number: IdNumber  # central keeps only its keyed hashes, as for any sale
    price_fen: FenAmount
    payment: BlockPayment
    sold_at: Timestamp
    token: str = Field(max_length=1024)  # as printed, signed with the TVM's key


class BlockSalesUpload(RequestModel):
    """``POST /v1/units/me/block-sales``: offline sales, idempotent by ticket id."""

    sales: list[BlockSale] = Field(max_length=MAX_SALES_PER_UPLOAD)


class BlockSaleResult(ResponseModel):
    """What central made of one offline sale."""

    ticket_id: str
    status: Literal["issued", "duplicate", "refused"]
    reason: str | None = None  # for a refusal: why (the sale's money must then be refunded)


class BlockSalesAnswer(ResponseModel):
    """One result per uploaded sale, in order."""

    results: list[BlockSaleResult]
