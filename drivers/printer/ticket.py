"""What the TVM hands the printer for one ticket, and how personal data is masked on paper.

``PrintedTicket`` is a plain value the unit fills from its own records (an
issued order's ticket, the station names of its timetable, the payment), so
the printer knows nothing of central or its messages. Station names and every
other word of the ticket come from the caller; only fixed vocabulary (the seat
class names) lives in the layout.

The caller gives the passenger's name and ID number already masked; the
layout masks them again (``mask_name``, ``mask_id_number``): both functions
are idempotent on their own output and never let more than the ends of a
value through, so a caller's slip cannot print a full ID number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from protocol.ids import SeatClass

MASK = "*"
ID_VISIBLE_MAX = 4  # at most this many characters stay visible at each end of an ID number


@dataclass(frozen=True, slots=True)
class StationName:
    """A station as printed: its Chinese name and its English (pinyin) name."""

    chinese: str
    english: str


@dataclass(frozen=True, slots=True)
class PrintedTicket:
    """Everything printed on one ticket; ``coach`` and ``seat`` both None for standing (无座)."""

    ticket_id: str
    train: str
    service_date: dt.date
    departure: dt.datetime  # local wall-clock time at the boarding station, printed as is
    from_station: StationName
    to_station: StationName
    seat_class: SeatClass
    coach: int | None
    seat: int | None
    price_fen: int
    passenger_name: str  # masked by the caller; masked again on paper
    id_number: str  # masked by the caller; masked again on paper
    token: str  # the signed QR payload
    acquirer: str | None = None  # the acquiring bank of a card payment

    def __post_init__(self) -> None:
        if (self.coach is None) != (self.seat is None):
            raise ValueError("coach and seat must both be given, or both None for standing")
        if self.price_fen < 0:
            raise ValueError(f"price_fen must not be negative, got {self.price_fen}")
        if not self.token:
            raise ValueError("a printed ticket needs its signed token")

    @property
    def is_standing(self) -> bool:
        """True for a ticket without a seat (无座)."""
        return self.seat is None


def mask_name(name: str) -> str:
    """The name with every character but the first and last hidden (张三丰 -> 张*丰).

    Two characters keep only the first (张三 -> 张*); one is hidden entirely.
    """
    text = name.strip()
    if len(text) <= 1:
        return MASK * len(text)
    if len(text) == 2:
        return text[0] + MASK
    return text[0] + MASK * (len(text) - 2) + text[-1]


def mask_id_number(id_number: str) -> str:
    """The ID number with its middle hidden: at most 4 characters stay at each end.

    An 18-character resident ID keeps 4 + 4 (1101**********1234); shorter
    numbers keep a quarter of their length at each end, so at least half
    is always hidden.
    """
    text = "".join(id_number.split())
    visible = min(ID_VISIBLE_MAX, len(text) // 4)
    hidden = len(text) - 2 * visible
    return text[:visible] + MASK * hidden + text[len(text) - visible :]
