"""What the TVM's screen shows, and what a passenger can ask of it, as plain data.

The runtime publishes a ``TvmView`` after every change; the kiosk
(``ui.tvm``) draws it and turns touches into ``Intent`` objects it hands back
with ``TvmRuntime.handle``. The runtime knows no screen and runs headless;
every text a passenger reads comes in both languages (``Words``) and the
kiosk shows the one chosen.

Every tappable thing has a stable ``target`` name, so a scripted journey
(``stationkit tvm run --script``) and the tests find the button to touch:
``start:purchase``, ``start:refund``, ``start:change``, ``day:earlier``,
``day:later`` (the change screen's day), ``dest:<code>``,
``train:<number>``, ``class:<code>``, ``passenger:add``,
``passenger:remove:<n>``, ``confirm``, ``confirm:card_station``,
``pay:card``, ``done``, ``back``, ``cancel``, ``language``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from device.gate.messages import Words


class Screen(StrEnum):
    """The screens of the purchase, refund and change flows."""

    HOME = "home"
    DESTINATION = "destination"  # search by name, pinyin initials or telegraph code
    TRAINS = "trains"  # trains to the destination today, seats left and fares
    CLASS = "class"
    PASSENGERS = "passengers"  # real names: name and ID number (check digit validated)
    CONFIRM = "confirm"  # the order, its total, the card-station warning if any
    PAY = "pay"  # follow the POS terminal
    PRINT = "print"
    DONE = "done"  # take your tickets
    SCAN = "scan"  # refund or change: show the ticket's QR code to the scanner
    REFUND = "refund"  # the fee, what comes back and how; confirm
    CHANGE = "change"  # the new train for a scanned ticket (then CLASS, CONFIRM, PAY ...)
    MESSAGE = "message"  # something went wrong: what happened and what to do next
    CLOSED = "closed"  # not selling: why, and where to go instead


class Banner(StrEnum):
    """A state shown across the screen."""

    NONE = "none"
    OFFLINE_BLOCK = "offline_block"  # central is away: selling from the emergency seat block
    OFFLINE = "offline"  # central is away and there is no block: no sales
    PAPER_LOW = "paper_low"  # still selling; staff should refill


@dataclass(frozen=True)
class Station:
    """A station as the passenger reads it."""

    code: str
    name: Words  # zh: 南京南, en: Nanjingnan (pinyin)
    initials: str = ""  # pinyin initials, e.g. NJN


@dataclass(frozen=True)
class ClassChoice:
    """A seat class of a train: seats left, standing places, fare."""

    code: str
    name: Words  # 二等座 / Second class
    seats: int
    standing: int
    price_fen: int


@dataclass(frozen=True)
class TrainChoice:
    """A train to the destination."""

    train: str
    departs_at: dt.datetime  # local time of the TVM's station
    arrives_at: dt.datetime
    classes: tuple[ClassChoice, ...]
    is_from_block: bool = False  # offline: sold from the emergency seat block
    service_date: dt.date | None = None  # the run's date (a late train may leave the next day)


@dataclass(frozen=True)
class PassengerLine:
    """A passenger entered so far (the ID number shown masked)."""

    name: str
    id_masked: str


@dataclass(frozen=True)
class TicketLine:
    """A ticket on the confirm, done, refund or change screens."""

    train: str
    from_station: Station
    to_station: Station
    departs_at: dt.datetime
    seat_class: Words
    place: Words  # 05车12F号 / Coach 5 Seat 12F, or 无座 / Standing
    passenger: str  # masked name
    price_fen: int


@dataclass(frozen=True)
class TvmView:
    """One screenful."""

    screen: Screen
    language: str  # "zh" or "en": which of each ``Words`` the kiosk shows
    title: Words
    station: Station  # where this TVM stands
    banner: Banner = Banner.NONE
    message: Words | None = None  # what to do now (or what went wrong and what next)
    query: str = ""  # the destination search text
    destinations: tuple[Station, ...] = ()
    destination: Station | None = None
    trains: tuple[TrainChoice, ...] = ()
    day: dt.date | None = None  # CHANGE: the service date whose trains are listed
    train: TrainChoice | None = None
    seat_class: ClassChoice | None = None
    passengers: tuple[PassengerLine, ...] = ()
    max_passengers: int = 5
    tickets: tuple[TicketLine, ...] = ()
    total_fen: int = 0
    fee_fen: int = 0  # refund or change fee
    refund_fen: int = 0  # what goes back to the passenger
    refund_to: Words | None = None  # how it goes back: 退回原银行卡 / To the card it was paid with
    needs_card_station_confirm: bool = False  # the warning of DOMAIN §3: confirm to go on
    busy: bool = False  # waiting for central, the POS terminal or the printer
    idle_seconds_left: float | None = None  # the screen returns home (and lets the hold go)
    targets: tuple[str, ...] = field(default_factory=tuple)  # what may be touched now


class IntentKind(StrEnum):
    """What a passenger asked for."""

    START = "start"  # value: purchase | refund | change
    SEARCH = "search"  # value: the search text
    CHOOSE = "choose"  # value: a target, e.g. dest:NJH, train:G101, class:ZE
    ADD_PASSENGER = "add_passenger"  # name, id_number
    REMOVE_PASSENGER = "remove_passenger"  # value: the index
    CONFIRM = "confirm"
    CONFIRM_CARD_STATION = "confirm_card_station"
    PAY = "pay"  # value: card
    DONE = "done"
    BACK = "back"
    CANCEL = "cancel"
    LANGUAGE = "language"
    TOUCH = "touch"  # any touch: the idle timer starts again


@dataclass(frozen=True)
class Intent:
    """One thing a passenger asked of the TVM."""

    kind: IntentKind
    value: str = ""
    name: str = ""  # ADD_PASSENGER
    id_number: str = ""  # ADD_PASSENGER: never logged, never shown in clear
