"""The gate's checker on a real store: tickets signed by central or by a TVM's scoped key.

A TVM that sold offline from an emergency block signs its tickets with its
own key, which every gate holds scoped to that TVM's station. Such a ticket
opens the entry gate of that station and the exit gate of its destination;
the same key signing a ticket that boards anywhere else is refused as
signed with an unknown key (central counts that refusal as a forgery).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.gate.checker import TicketChecker
from device.gate.rules import CheckinWindow, GateSide
from offline_store.connection import StoreSettings
from offline_store.store import UnitStore
from protocol.keys import KeyRing, SigningKey
from protocol.token import TicketClaims, encode_token
from protocol.units import GateReason

DEPARTS = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
ARRIVES = DEPARTS + dt.timedelta(hours=3)
CENTRAL = SigningKey.generate(1)
TVM_AT_VNP = SigningKey.generate(130)


def token(key: SigningKey, board: str, alight: str, ticket_id: str) -> str:
    claims = TicketClaims.for_passenger(
        ticket_id=ticket_id,
        train="G101",
        service_date=DEPARTS.date(),
        from_station=board,
        to_station=alight,
        seat_class="ZE",
        coach=5,
        seat=12,
        name="张三",
        id_number="110101199001011234",
        not_before=DEPARTS - dt.timedelta(hours=2),
        not_after=ARRIVES + dt.timedelta(hours=2),
    )
    return encode_token(claims, key)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UnitStore]:
    opened = UnitStore.open(tmp_path / "gate.db", StoreSettings())
    ring = KeyRing([CENTRAL.public_key(), TVM_AT_VNP.public_key()])
    opened.keys.replace_ring(ring, {TVM_AT_VNP.key_id: "VNP"})
    try:
        yield opened
    finally:
        opened.close()


def decide(store: UnitStore, side: GateSide, text: str, now: dt.datetime) -> GateReason | None:
    checked = TicketChecker(side, CheckinWindow()).check_code(store, text, now)
    return None if checked.decision.admit else checked.decision.reason


def test_a_tvm_signed_ticket_opens_its_stations_entry_and_its_destinations_exit(
    store: UnitStore,
) -> None:
    text = token(TVM_AT_VNP, "VNP", "AOH", "00000000000000a1")
    assert decide(store, GateSide("VNP", "entry"), text, DEPARTS - dt.timedelta(minutes=30)) is None
    assert decide(store, GateSide("AOH", "exit"), text, ARRIVES) is None


def test_a_tvm_key_signing_a_ticket_from_another_station_is_refused(store: UnitStore) -> None:
    text = token(TVM_AT_VNP, "NJH", "AOH", "00000000000000a2")
    now = DEPARTS - dt.timedelta(minutes=30)
    assert decide(store, GateSide("NJH", "entry"), text, now) is GateReason.UNKNOWN_KEY
    assert decide(store, GateSide("AOH", "exit"), text, ARRIVES) is GateReason.UNKNOWN_KEY


def test_centrals_key_signs_tickets_from_any_station(store: UnitStore) -> None:
    text = token(CENTRAL, "NJH", "AOH", "00000000000000a3")
    assert decide(store, GateSide("NJH", "entry"), text, DEPARTS - dt.timedelta(minutes=30)) is None
