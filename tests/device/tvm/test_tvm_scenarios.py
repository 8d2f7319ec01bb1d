"""The whole TVM in its own process, driven by scripted journeys on its real screens.

Central, the TVM, the bank terminal simulator (pty), the printer simulator
(TCP) and the QR scanner simulator (pty) each run as processes; a
passenger's journey is played as touches on the headless kiosk. Each
scenario checks the TVM's journal, the printed tickets, central's records
and the terminal's own totals.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from central_rig import Central, train_run
from gate_rig import Gate
from tvm_unit_rig import TvmUnit, failed_steps

from protocol.keys import KeyRing, VerifyKey
from protocol.token import decode_token, peek_key_id
from protocol.tvm import FIRST_UNIT_KEY_ID

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


BUY_ONE = [
    "start purchase",
    "destination 丙站",
    f"train {TRAIN}",
    "class ZE",
    "passenger 王五 110101199303031233",
    "confirm",
]


def seats_left(central: Central, run: dict[str, Any]) -> int:
    journey = {"train": run["train"], "date": run["date"], "from": "AAA", "to": "CCC"}
    classes = central.get("/v1/availability", **journey)["classes"]
    return int(next(c["seats"] for c in classes if c["class"] == "ZE"))


def test_back_from_the_confirm_screen_lets_the_hold_go_and_a_new_one_sells(
    central: Central, run: dict[str, Any], tvm: TvmUnit
) -> None:
    steps = [
        *BUY_ONE,
        {"step": "back", "expect": "passengers"},
        "confirm",
        {"step": "pay card", "timeout_s": 60},
        "take ticket",
    ]
    unit = tvm.play(steps, "back from confirm, then buy")
    assert unit.events("journey_done")[0]["ok"], failed_steps(unit)
    unit.stop()
    first, second = sorted(tvm.sales(), key=lambda sale: sale.created_at)
    assert (first.state, second.state) == ("cancelled", "done")
    [token] = tvm.printed_tokens()
    ticket = central.get(f"/v1/tickets/{decode_token(token, ring(central)).ticket_id}")
    assert ticket["status"] == "issued"
    assert seats_left(central, run) == 19


def test_a_declined_card_charges_nothing_prints_nothing_and_lets_the_seats_go(
    central: Central, run: dict[str, Any], tvm: TvmUnit
) -> None:
    seats = seats_left(central, run)
    steps = [*BUY_ONE, "card decline", {"step": "pay card", "expect": "message"}, "done"]
    unit = tvm.play(steps, "a declined card")
    assert unit.events("journey_done")[0]["ok"], failed_steps(unit)
    assert unit.events("payment_declined") and not unit.events("payment_approved")
    totals = tvm.terminal().totals()
    unit.stop()
    assert totals["approved_count"] == 0
    assert tvm.printed_tokens() == []
    [sale] = tvm.sales()
    assert (sale.state, sale.is_open) == ("declined", False)
    assert seats_left(central, run) == seats


def test_an_approval_whose_answer_was_lost_is_found_by_status_and_the_ticket_printed(
    central: Central, run: dict[str, Any], tvm: TvmUnit
) -> None:
    steps = [
        *BUY_ONE,
        "card approve_lose_answer",
        {"step": "pay card", "timeout_s": 60},  # asked at once: the ticket comes as usual
        "take ticket",
    ]
    unit = tvm.play(steps, "approved, the answer lost")
    assert unit.events("journey_done")[0]["ok"], failed_steps(unit)
    totals = tvm.terminal().totals()
    unit.stop()
    assert totals["approved_count"] == 1  # asked by status, never charged twice
    [token] = tvm.printed_tokens()
    claims = decode_token(token, ring(central))
    assert central.get(f"/v1/tickets/{claims.ticket_id}")["status"] == "issued"
    [sale] = tvm.sales()
    assert (sale.state, sale.is_open, sale.amount_fen) == ("done", False, totals["approved_fen"])


def test_a_terminal_that_never_answers_is_asked_and_the_sale_settled_as_declined(
    central: Central, run: dict[str, Any], tvm: TvmUnit
) -> None:
    steps = [
        *BUY_ONE,
        {"step": "pay card", "timeout_s": 60},  # a sale first: the terminal's last is known
        "take ticket",
        "start purchase",
        "destination 丙站",
        f"train {TRAIN}",
        "class ZE",
        "passenger 赵六 32010219851231007X",
        "confirm",
        "card timeout",
        {"step": "pay card", "expect": "message", "timeout_s": 60},
        "done",
    ]
    unit = tvm.play(steps, "the terminal times out")
    assert unit.events("journey_done")[0]["ok"], failed_steps(unit)
    totals = tvm.terminal().totals()
    unit.stop()
    assert totals["approved_count"] == 1
    assert len(tvm.printed_tokens()) == 1
    first, second = sorted(tvm.sales(), key=lambda sale: sale.created_at)
    assert (first.state, second.state) == ("done", "declined")
    assert not second.is_open


def test_paper_running_out_mid_ticket_stops_selling_and_the_ticket_prints_once_paper_is_back(
    central: Central, run: dict[str, Any], tvm: TvmUnit
) -> None:
    steps = [*BUY_ONE, {"step": "pay card", "expect": "message", "timeout_s": 60}, "done"]
    script = tvm.folder / "paper.json"
    script.write_text(json.dumps({"name": "paper out", "steps": steps}, ensure_ascii=False))
    unit = tvm.start("--script", str(script), "--linger")
    tvm.printer("paper", state="out", after_bytes=2000)  # long before the journey pays
    unit.expect("journey_done", 120)
    assert unit.events("journey_done")[0]["ok"], failed_steps(unit)
    unit.expect("health_changed", 30, where=lambda e: not e["selling"])
    assert tvm.printed_tokens() == []
    tvm.printer("paper", state="ok")
    unit.expect("sale_recovered", 30, where=lambda e: e["now"] == "done")
    unit.stop()
    [token] = tvm.printed_tokens()
    assert central.get(f"/v1/tickets/{decode_token(token, ring(central)).ticket_id}")
    [sale] = tvm.sales()
    assert (sale.state, sale.printed, sale.is_open) == ("done", 1, False)


def test_a_ticket_refunded_at_the_machine_goes_back_to_the_card(
    central: Central, run: dict[str, Any], tvm: TvmUnit
) -> None:
    steps = [
        *BUY_ONE,
        {"step": "pay card", "timeout_s": 60},
        "take ticket",
        "start refund",
        "scan ticket last",
        "expect refund",
        "confirm",
        {"step": "take ticket", "expect": "home"},
    ]
    unit = tvm.play(steps, "buy and refund")
    assert unit.events("journey_done")[0]["ok"], failed_steps(unit)
    assert len(unit.events("payment_approved")) == 1
    unit.stop()
    [token] = tvm.printed_tokens()
    ticket = central.get(f"/v1/tickets/{decode_token(token, ring(central)).ticket_id}")
    assert ticket["status"] == "refunded"
    assert seats_left(central, run) == 20


def test_a_ticket_changed_at_the_machine_to_a_dearer_train_charges_the_difference_once(
    central: Central, run: dict[str, Any], tvm: TvmUnit
) -> None:
    later = train_run("G7003", dt.timedelta(days=1, minutes=50))  # the next day, same hour
    later["fares"] = {"ZE": 60}  # dearer per km than the first train
    central.post("/v1/train-runs", later)
    steps = [
        *BUY_ONE,
        {"step": "pay card", "timeout_s": 60},
        "take ticket",
        "start change",
        "scan ticket last",
        "expect change",
        "day later",
        "train G7003",
        "class ZE",
        "passenger 王五 110101199303031233",
        "confirm",
        "expect confirm",
        {"step": "pay card", "timeout_s": 60},
        "take ticket",
    ]
    unit = tvm.play(steps, "buy, then change to a dearer train")
    assert unit.events("journey_done")[0]["ok"], failed_steps(unit)
    totals = tvm.terminal().totals()
    unit.stop()
    old_token, new_token = tvm.printed_tokens()
    old, new = (decode_token(t, ring(central)) for t in (old_token, new_token))
    old_ticket = central.get(f"/v1/tickets/{old.ticket_id}")
    new_ticket = central.get(f"/v1/tickets/{new.ticket_id}")
    assert (old_ticket["status"], old_ticket["replaced_by"]) == ("changed", new.ticket_id)
    assert (new_ticket["status"], new_ticket["train"]) == ("issued", "G7003")
    assert new_ticket["date"] == later["date"] != old_ticket["date"]
    purchase, change = sorted(tvm.sales(), key=lambda sale: sale.created_at)
    assert (change.kind, change.state, change.is_open) == ("change", "done", False)
    difference = new_ticket["price_fen"] - old_ticket["price_fen"]
    assert difference > 0 and change.amount_fen == difference
    assert totals["approved_count"] == 2
    assert totals["approved_fen"] == purchase.amount_fen + difference
    assert seats_left(central, run) == 20


def test_with_central_down_and_no_block_the_machine_says_so_and_sells_nothing(
    central: Central, run: dict[str, Any], tvm: TvmUnit
) -> None:
    central.stop()
    steps = [{"step": "start purchase", "expect": "closed"}]
    unit = tvm.play(steps, "central down")
    assert unit.events("journey_done")[0]["ok"], failed_steps(unit)
    totals = tvm.terminal().totals()
    unit.stop()
    assert totals["approved_count"] == 0 and tvm.sales() == []


def test_with_central_down_the_machine_sells_from_its_block_and_a_gate_admits_the_ticket(
    central: Central, run: dict[str, Any], tvm: TvmUnit, tmp_path: Path
) -> None:
    online = tvm.start()  # registers its signing key while central answers
    online.expect("signing_key_registered", 30)
    lease = {"device_id": tvm.device_id, "class": "ZE", "seats": 2}
    lease["return_at"] = run["stops"][0]["depart"]
    central.post(f"/v1/train-runs/{TRAIN}/{run['date']}/blocks", lease)
    online.expect("blocks_kept", 30, where=lambda e: bool(e["blocks"]))
    online.stop()
    gate = Gate("gate-aaa-1", tmp_path / "gate", central)
    gate.enrol()
    gate.start()  # its feed carries the TVM's key, scoped to AAA
    try:
        assert gate.unit is not None
        gate.unit.expect("keys_updated", 30, where=lambda e: bool(e["unit_keys"]))
        central.stop()
        steps = [*BUY_ONE, {"step": "pay card", "timeout_s": 60}, "take ticket"]
        unit = tvm.play(steps, "offline, from the emergency block")
        assert unit.events("journey_done")[0]["ok"], failed_steps(unit)
        [token] = tvm.printed_tokens()
        assert peek_key_id(token) >= FIRST_UNIT_KEY_ID  # signed by the TVM, not central
        gate.scan(token)
        assert gate.decision()["result"] == "admit"  # offline, on the TVM's scoped key
        central.start()
        uploaded = unit.expect("block_sale_uploaded", 60)
    finally:
        gate.stop()
    assert uploaded["status"] == "issued", uploaded
    totals = tvm.terminal().totals()
    unit.stop()
    ticket_id = uploaded["ticket_id"]
    assert central.get(f"/v1/tickets/{ticket_id}")["status"] == "issued"
    assert totals["approved_count"] == 1
    [sale] = tvm.sales()
    assert (sale.kind, sale.state, sale.is_open) == ("offline", "done", False)
