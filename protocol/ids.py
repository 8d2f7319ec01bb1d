"""Identifiers that cross the wire: station codes, train numbers, seat classes, ticket ids.

Station codes are the three-letter telecodes of China Railway (e.g. ``BJP``);
train numbers are an optional letter prefix and up to five digits (``G1``,
``K1234``, ``1461``). Both are validated here so every side rejects the same
bad input with the same words.
"""

from __future__ import annotations

import re
import secrets
import time
from enum import StrEnum
from typing import NewType

StationCode = NewType("StationCode", str)
TrainNumber = NewType("TrainNumber", str)
TicketId = NewType("TicketId", str)
OrderId = NewType("OrderId", str)

# The patterns as JSON Schema states them (ECMA-262 regexes that Python and Rust read alike);
# protocol.fields builds the wire types from them, so the API refuses what its schema refuses.
STATION_PATTERN = r"^[A-Z]{3}$"
# an optional capital letter, then 1-5 digits whose value is at most 65535 (the token's 16 bits)
TRAIN_PATTERN = (
    r"^[A-Z]?(?:[0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$"
)
TICKET_ID_PATTERN = r"^[0-9a-f]{16}$"
ORDER_ID_PATTERN = r"^[0-9a-f]{24}$"

STATION_CODE_RE = re.compile(STATION_PATTERN)
TRAIN_NUMBER_RE = re.compile(r"^([A-Z]?)([0-9]{1,5})$")  # splits prefix and number
TICKET_ID_BYTES = 8
TICKET_ID_RE = re.compile(TICKET_ID_PATTERN)


class SeatClass(StrEnum):
    """Seat classes of China Railway, by their ticketing codes."""

    BUSINESS = "SW"  # 商务座
    FIRST = "ZY"  # 一等座
    SECOND = "ZE"  # 二等座
    SOFT_SLEEPER = "RW"  # 软卧
    HARD_SLEEPER = "YW"  # 硬卧
    SOFT_SEAT = "RZ"  # 软座
    HARD_SEAT = "YZ"  # 硬座


SEAT_CLASS_ORDER: tuple[SeatClass, ...] = tuple(SeatClass)


def station_code(text: str) -> StationCode:
    """Validate a station telecode (three capital letters)."""
    if not STATION_CODE_RE.match(text):
        raise ValueError(f"station code must be three capital letters, got {text!r}")
    return StationCode(text)


def train_number(text: str) -> TrainNumber:
    """Validate a train number: optional capital letter, then 1-5 digits below 65536."""
    match = TRAIN_NUMBER_RE.match(text)
    if not match or int(match.group(2)) > 0xFFFF:
        raise ValueError(f"train number must be a letter and a number up to 65535, got {text!r}")
    return TrainNumber(text)


def split_train_number(number: str) -> tuple[str, int]:
    """Split ``G1234`` into ``("G", 1234)``; the prefix is empty for all-digit numbers."""
    match = TRAIN_NUMBER_RE.match(train_number(number))
    assert match is not None  # train_number validated it
    return match.group(1), int(match.group(2))


def new_ticket_id() -> TicketId:
    """A 64-bit ticket id as 16 lower-case hex digits: 16 bits of clock, 48 random.

    The clock part (seconds, wrapping every 18 hours) puts the tickets sold
    together next to each other in the store's index, so a batch of sales
    writes a few index pages instead of one each; the random part keeps ids
    unguessable and apart.
    """
    clock = int(time.time()) & 0xFFFF
    return TicketId(f"{clock:04x}{secrets.token_hex(TICKET_ID_BYTES - 2)}")


def ticket_id(text: str) -> TicketId:
    """Validate a ticket id (16 lower-case hex digits)."""
    if not TICKET_ID_RE.match(text):
        raise ValueError(f"ticket id must be 16 lower-case hex digits, got {text!r}")
    return TicketId(text)


def new_order_id() -> OrderId:
    """An order id of 24 hex digits: milliseconds since the epoch, then 48 random bits.

    Time first, for the same index locality as ticket ids; unguessable all the same.
    """
    return OrderId(f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(6)}")
