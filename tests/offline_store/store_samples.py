"""Records for the offline store's tests: real signed tokens, as the station feed delivers them."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from pathlib import Path

import base45

from offline_store import (
    Direction,
    NewPassage,
    PassageKind,
    Revocation,
    StoreSettings,
    TicketRecord,
    UnitMode,
    UnitStore,
)
from protocol.ids import SeatClass, StationCode, TicketId, TrainNumber
from protocol.keys import SigningKey
from protocol.token import TicketClaims, encode_token

SIGNING_KEY = SigningKey.from_private_hex(3, "11" * 32)
DEPARTS = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
ARRIVES = DEPARTS + dt.timedelta(hours=3, minutes=6)
NOW = DEPARTS - dt.timedelta(minutes=30)


def ticket_id(number: int) -> TicketId:
    """A ticket id made from a number, spread over the whole 64-bit range."""
    digest = hashlib.sha256(number.to_bytes(8, "big")).digest()
    return TicketId(digest[:8].hex())


def holder_tag(holder: int) -> bytes:
    """The 16-byte tag of holder number ``holder``."""
    return hashlib.blake2b(holder.to_bytes(8, "big"), digest_size=16).digest()


@functools.cache  # Ed25519 signatures are deterministic, and signing is the slow part
def token_bytes(tid: str, departs: dt.datetime = DEPARTS) -> bytes:
    """A real signed token for ``tid``, in the binary form the store keeps."""
    claims = TicketClaims.for_passenger(
        ticket_id=tid, train="G111", service_date=departs.date(), from_station="VNP",
        to_station="NKH", seat_class=SeatClass.SECOND, coach=3, seat=12, name="LI LEI",
        id_number="110101199001011234", not_before=departs - dt.timedelta(hours=2),
        not_after=departs + dt.timedelta(hours=5),
    )  # fmt: skip
    raw: bytes = base45.b45decode(encode_token(claims, SIGNING_KEY))
    return raw


def ticket(
    number: int,
    *,
    event_id: int = 1,
    holder: int | None = None,
    departs: dt.datetime = DEPARTS,
    coach: int | None = 3,
    seat: int | None = 12,
    gate_group: str | None = None,
) -> TicketRecord:
    """Ticket ``number`` from the feed."""
    tid = ticket_id(number)
    return TicketRecord(
        ticket_id=tid, train=TrainNumber("G111"), service_date=departs.date(),
        from_station=StationCode("VNP"), to_station=StationCode("NKH"), departs_at=departs,
        arrives_at=departs + (ARRIVES - DEPARTS), seat_class=SeatClass.SECOND, coach=coach,
        seat=seat, token=token_bytes(tid, departs), event_id=event_id,
        holder_tag=None if holder is None else holder_tag(holder), gate_group=gate_group,
    )  # fmt: skip


def revocation(number: int, *, event_id: int = 2, reason: str = "refunded") -> Revocation:
    """The feed's revocation of ticket ``number``."""
    return Revocation(ticket_id(number), reason, NOW, ARRIVES, event_id)


def admitted(number: int | None, at: dt.datetime = NOW, **changes: object) -> NewPassage:
    """An admitted entry of ticket ``number``."""
    fields: dict[str, object] = {
        "direction": Direction.ENTRY,
        "kind": PassageKind.ADMITTED,
        "reason": "ok",
        "unit_time": at,
        "mode": UnitMode.IN_SERVICE,
        "ticket_id": None if number is None else ticket_id(number),
        "detail": {"lane": 2},
    }
    return NewPassage(**(fields | changes))  # type: ignore[arg-type]


def open_store(path: Path, **settings: int) -> UnitStore:
    """A store at ``path`` with the given settings."""
    return UnitStore.open(path, StoreSettings(**settings))
