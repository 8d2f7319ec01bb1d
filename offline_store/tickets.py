"""Ticket and revocation records: what central's station feed tells the gate, checked.

A :class:`TicketRecord` is one issued ticket with the facts a gate decides on
(train, date, journey, seat, times), the signed token in its 109-byte binary
form and the holder tag; a :class:`Revocation` withdraws a ticket (refunded,
changed). Both check every field at construction, so nothing malformed
reaches the store, and both hold times in UTC whole seconds, as stored. A
:class:`CachedTicket` is what a lookup returns: the record and its
revocation, if any.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from offline_store.columns import check_code, from_seconds, to_day, to_seconds
from protocol.fields import GATE_GROUP_PATTERN
from protocol.ids import (
    SeatClass,
    StationCode,
    TicketId,
    TrainNumber,
    station_code,
    train_number,
)
from protocol.ids import ticket_id as check_ticket_id
from protocol.token import MAX_COACH, MAX_SEAT, TOKEN_BYTES, TOKEN_VERSION

HOLDER_TAG_BYTES = 16


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """One ticket as the station feed delivers it; checked at construction.

    ``token`` is the signed token's binary form (the base45 text decoded, 109
    bytes); its ticket id must be ``ticket_id``. Times are normalised to UTC
    whole seconds, as stored. ``holder_tag`` is 16 opaque bytes or None;
    ``gate_group`` is where the train checks in at the boarding station, or
    None when central did not say.
    """

    ticket_id: TicketId
    train: TrainNumber
    service_date: dt.date
    from_station: StationCode
    to_station: StationCode
    departs_at: dt.datetime
    arrives_at: dt.datetime
    seat_class: SeatClass
    coach: int | None
    seat: int | None
    token: bytes = field(repr=False)  # 109 bytes: too long for a log line
    event_id: int
    holder_tag: bytes | None = None
    gate_group: str | None = None

    def __post_init__(self) -> None:
        check_ticket_id(self.ticket_id)
        train_number(self.train)
        to_day("service_date", self.service_date)
        station_code(self.from_station)
        station_code(self.to_station)
        object.__setattr__(self, "seat_class", SeatClass(self.seat_class))
        _check_place(self.coach, self.seat)
        _check_token(self.ticket_id, self.token)
        if self.holder_tag is not None:
            check_holder_tag(self.holder_tag)
        if self.gate_group is not None:
            check_gate_group(self.gate_group)
        _check_count("event_id", self.event_id)
        self._normalise_times()

    def _normalise_times(self) -> None:
        """Both times as the UTC whole seconds the store keeps; arrival not before departure."""
        departs = from_seconds(to_seconds("departs_at", self.departs_at))
        arrives = from_seconds(to_seconds("arrives_at", self.arrives_at))
        if arrives < departs:
            raise ValueError(f"arrives_at {arrives} is before departs_at {departs}")
        object.__setattr__(self, "departs_at", departs)
        object.__setattr__(self, "arrives_at", arrives)

    @property
    def key_id(self) -> int:
        """The id of the key that signed the token (its second byte)."""
        return self.token[1]


@dataclass(frozen=True, slots=True)
class Revocation:
    """A ticket refunded, changed or otherwise withdrawn, as the feed reports it."""

    ticket_id: TicketId
    reason: str  # a code from central: refunded, changed, ...
    revoked_at: dt.datetime
    arrives_at: dt.datetime  # the ticket's arrival: the revocation is purged with it
    event_id: int

    def __post_init__(self) -> None:
        check_ticket_id(self.ticket_id)
        check_code("reason", self.reason)
        object.__setattr__(self, "revoked_at", _whole_seconds("revoked_at", self.revoked_at))
        object.__setattr__(self, "arrives_at", _whole_seconds("arrives_at", self.arrives_at))
        _check_count("event_id", self.event_id)


@dataclass(frozen=True, slots=True)
class CachedTicket:
    """A cached ticket and its revocation, if any."""

    record: TicketRecord
    revocation: Revocation | None

    @property
    def is_revoked(self) -> bool:
        """True when the feed has withdrawn the ticket."""
        return self.revocation is not None


def _check_place(coach: int | None, seat: int | None) -> None:
    """Both None (standing), or coach 1..255 and seat 1..65535."""
    if coach is None and seat is None:
        return
    for label, value, high in (("coach", coach, MAX_COACH), ("seat", seat, MAX_SEAT)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise ValueError(f"{label} must be 1..{high} (both None when standing), got {value!r}")


def _check_token(ticket_id: str, token: bytes) -> None:
    """A version-1 binary token of the right length that carries ``ticket_id``."""
    if not isinstance(token, bytes) or len(token) != TOKEN_BYTES:
        shown = f"{len(token)} bytes" if isinstance(token, bytes) else type(token).__name__
        raise ValueError(f"token must be the {TOKEN_BYTES}-byte binary form, got {shown}")
    if token[0] != TOKEN_VERSION:
        raise ValueError(f"token version {token[0]} is not {TOKEN_VERSION}")
    if token[2:10].hex() != ticket_id:
        raise ValueError(f"token carries ticket id {token[2:10].hex()}, not {ticket_id}")


def check_holder_tag(tag: bytes) -> bytes:
    """Exactly 16 bytes."""
    if not isinstance(tag, bytes) or len(tag) != HOLDER_TAG_BYTES:
        raise ValueError(f"holder_tag must be {HOLDER_TAG_BYTES} bytes, got {tag!r}")
    return tag


def check_gate_group(group: str) -> str:
    """1-16 letters, digits, '_' or '-', as central registers gates and loads timetables."""
    if not isinstance(group, str) or re.fullmatch(GATE_GROUP_PATTERN, group) is None:
        raise ValueError(f"gate_group must be 1-16 letters, digits, '_' or '-', got {group!r}")
    return group


def _check_count(label: str, value: int) -> None:
    """A non-negative int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{label} must be a non-negative integer, got {value!r}")


def _whole_seconds(label: str, value: dt.datetime) -> dt.datetime:
    """``value`` in UTC, floored to the second as stored."""
    return from_seconds(to_seconds(label, value))
