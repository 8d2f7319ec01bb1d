"""The test ticket and configs the printer tests share (fake passenger, fake stations)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from drivers.printer.config import TicketPrinterConfig
from drivers.printer.ticket import PrintedTicket, StationName
from protocol.ids import SeatClass
from protocol.keys import KeyRing, SigningKey
from protocol.token import TicketClaims, encode_token

TICKET_ID = "0123456789abcdef"
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# Fake data: these names exist only in these tests.
ORIGIN = StationName("北京南", "Beijingnan")
DESTINATION = StationName("上海虹桥", "Shanghaihongqiao")
ID_NUMBER = "110101199001011234"  # a made-up resident ID
FOOTER = ["Keep this ticket until you leave the station", "请妥善保管车票"]


@cache
def signing_key() -> SigningKey:
    """The key the test tokens are signed with (made once per test process)."""
    return SigningKey.generate(7)


def key_ring() -> KeyRing:
    """The key ring a gate would hold to check the test tokens."""
    return KeyRing([signing_key().public_key()])


@cache
def claims() -> TicketClaims:
    """The claims of the test ticket, for a fake passenger."""
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
        id_number=ID_NUMBER,
        not_before=dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC),
        not_after=dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC),
    )


@cache
def token() -> str:
    """The signed token of the test ticket."""
    return encode_token(claims(), signing_key())


def make_ticket(token: str, **changes: object) -> PrintedTicket:
    """The test ticket, with ``changes`` applied."""
    fields: dict[str, object] = {
        "ticket_id": TICKET_ID,
        "train": "G1",
        "service_date": dt.date(2026, 12, 1),
        "departure": dt.datetime(2026, 12, 1, 8, 0),
        "from_station": ORIGIN,
        "to_station": DESTINATION,
        "seat_class": SeatClass.SECOND,
        "coach": 5,
        "seat": 12,
        "price_fen": 55300,
        "passenger_name": "张*丰",
        "id_number": "1101**********1234",
        "token": token,
        "acquirer": "中国银行",
    }
    fields.update(changes)
    return PrintedTicket(**fields)  # type: ignore[arg-type]


def sim_config(tmp_path: Path, **changes: object) -> TicketPrinterConfig:
    """A sim-backend config whose tickets and control socket live under ``tmp_path``."""
    settings = {"output_dir": tmp_path / "tickets", "control_socket": tmp_path / "printer.sock"}
    fields: dict[str, object] = {
        "backend": "sim",
        "sim": settings,
        "status_timeout_s": 0.3,
        "footer": FOOTER,
    }
    fields.update(changes)
    return TicketPrinterConfig.model_validate(fields)
