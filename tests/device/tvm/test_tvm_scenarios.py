"""The whole TVM in its own process, driven by scripted journeys on its real screens.

Central, the TVM, the bank terminal simulator (pty), the printer simulator
(TCP) and the QR scanner simulator (pty) each run as processes; a
passenger's journey is played as touches on the headless kiosk. Each
scenario checks the TVM's journal, the printed tickets, central's records
and the terminal's own totals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from central_rig import Central, train_run
from tvm_unit_rig import TvmUnit, failed_steps

from protocol.keys import KeyRing, VerifyKey
from protocol.token import decode_token

pytestmark = pytest.mark.slow

TRAIN = "G7001"
BUY_TWO = [
    "start purchase",
    "destination 丙站",
    f"train {TRAIN}",
    "class ZE",
    "passenger 张三 110101199001011237",
    "passenger 李四 110101199202021239",
    "confirm",
    {"step": "pay card", "timeout_s": 60},
    "take ticket",
]


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    central = Central(tmp_path / "central").start()
    try:
        yield central
    finally:
        central.stop()


@pytest.fixture
def run(central: Central) -> dict[str, Any]:
    run = train_run(TRAIN, dt.timedelta(minutes=50))
    central.post("/v1/train-runs", run)
    return run


@pytest.fixture
def tvm(central: Central, tmp_path: Path) -> Iterator[TvmUnit]:
    unit = TvmUnit(tmp_path / "tvm", central)
    unit.enrol()
    try:
        yield unit
    finally:
        unit.stop()


def ring(central: Central) -> KeyRing:
    keys = central.get("/v1/keys")["keys"]
    return KeyRing(VerifyKey.from_public_hex(k["key_id"], k["public_key"]) for k in keys)


def test_two_tickets_bought_by_card_are_issued_printed_and_charged_once(
    central: Central, run: dict[str, Any], tvm: TvmUnit
) -> None:
    unit = tvm.play(BUY_TWO, "buy two tickets by card")
    assert unit.events("journey_done")[0]["ok"], failed_steps(unit)
    tokens = tvm.printed_tokens()
    assert len(tokens) == 2
    claims = [decode_token(token, ring(central)) for token in tokens]
    assert sorted(c.train for c in claims) == [TRAIN, TRAIN]
    tickets = [central.get(f"/v1/tickets/{c.ticket_id}") for c in claims]
    assert [t["status"] for t in tickets] == ["issued", "issued"]
    [approved] = unit.events("payment_approved")
    assert "*" in approved["card"] and approved["acquirer"]
    totals = tvm.terminal().totals()
    unit.stop()
    [sale] = tvm.sales()
    assert (sale.state, sale.is_open) == ("done", False)
    assert sale.amount_fen == sum(t["price_fen"] for t in tickets)
    assert totals["approved_count"] == 1 and totals["approved_fen"] == sale.amount_fen
