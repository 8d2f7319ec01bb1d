"""Fixtures of the ticket printer tests: a signing key, its key ring, a signed token, a ticket."""

from __future__ import annotations

import datetime as dt

import pytest

from drivers.printer.ticket import PrintedTicket
from protocol.ids import SeatClass
from protocol.keys import KeyRing, SigningKey
from protocol.token import TicketClaims, encode_token
from tests.drivers.printer.printer_samples import TICKET_ID, make_ticket


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey.generate(7)


@pytest.fixture(scope="session")
def key_ring(signing_key: SigningKey) -> KeyRing:
    return KeyRing([signing_key.public_key()])


@pytest.fixture(scope="session")
def claims() -> TicketClaims:
    return TicketClaims.for_passenger(
        ticket_id=TICKET_ID,
        train="G1",
        service_date=dt.date(2026, 12, 1),
        from_station="VNP",
        to_station="AOH",
        seat_class=SeatClass.SECOND,
        coach=5,
        seat=12,
        name="张三丰",
        id_number="110101199001011234",
        not_before=dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC),
        not_after=dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC),
    )


@pytest.fixture(scope="session")
def token(claims: TicketClaims, signing_key: SigningKey) -> str:
    return encode_token(claims, signing_key)


@pytest.fixture
def ticket(token: str) -> PrintedTicket:
    return make_ticket(token)
