"""A TVM's checkout against central (its own process) and the bank terminal and printer simulators.

Each scenario buys through the real drivers on their simulators (the
terminal speaks Concert on a pty, the printer ESC/POS over TCP) and checks
the journal, central's records, the terminal's totals and the printed
tickets (the QR on the rendered ticket decodes to the token central issued).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from central_rig import Central, train_run
from tvm_rig import Machine, machine, passengers_order

from device.tvm.checkout import PurchaseFailed, SaleState

pytestmark = pytest.mark.slow


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    server = Central(tmp_path / "central").start()
    yield server
    server.stop()


def play(central: Central, tmp_path: Path, scene: Callable[[Machine], Awaitable[None]]) -> None:
    async def run() -> None:
        async with machine(central, tmp_path) as tvm:
            await scene(tvm)

    asyncio.run(run())


def test_two_tickets_paid_by_card_are_issued_and_printed(central: Central, tmp_path: Path) -> None:
    run = train_run("G7201", dt.timedelta(hours=3))
    central.post("/v1/train-runs", run)

    async def scene(tvm: Machine) -> None:
        tvm.terminal.card("622848******1234", "ICBC")
        tvm.terminal.next("approve")
        held = await tvm.checkout.hold("sale-1", passengers_order(run, 2), tvm.facts(run), 0)
        await tvm.checkout.charge("sale-1")
        issued = await tvm.checkout.issue("sale-1")
        await tvm.checkout.print_tickets("sale-1")
        sale = await tvm.sale("sale-1")
        assert (sale.state, sale.is_open, sale.printed) == ("done", False, 2)
        assert issued.payment is not None and issued.payment.acquirer == "ICBC"
        assert tvm.terminal.totals()["approved_fen"] == held.total_fen
        tokens = sorted(str(t.token) for t in issued.tickets)
        assert tvm.printed_tokens(2) == tokens
        order = central.get(f"/v1/orders/{held.order_id}")
        assert order["status"] == "issued" and order["payment"]["card_masked"] == "622848******1234"

    play(central, tmp_path, scene)


def test_a_declined_card_charges_nothing_and_lets_the_seats_go(
    central: Central, tmp_path: Path
) -> None:
    run = train_run("G7202", dt.timedelta(hours=3), seats=2)
    central.post("/v1/train-runs", run)

    async def scene(tvm: Machine) -> None:
        tvm.terminal.next("decline")
        held = await tvm.checkout.hold("sale-2", passengers_order(run, 2), tvm.facts(run), 0)
        assert central_seats(central, run) == 0
        with pytest.raises(PurchaseFailed) as failed:
            await tvm.checkout.charge("sale-2")
        assert failed.value.state is SaleState.DECLINED
        sale = await tvm.sale("sale-2")
        assert (sale.state, sale.is_open) == ("declined", False)
        assert central.get(f"/v1/orders/{held.order_id}")["status"] == "cancelled"
        assert central_seats(central, run) == 2
        assert tvm.terminal.totals()["approved_count"] == 0

    play(central, tmp_path, scene)


def test_an_approval_whose_answer_was_lost_is_found_by_status_and_finished(
    central: Central, tmp_path: Path
) -> None:
    run = train_run("G7203", dt.timedelta(hours=3))
    central.post("/v1/train-runs", run)

    async def scene(tvm: Machine) -> None:
        tvm.terminal.next("approve_lose_answer")
        await tvm.checkout.hold("sale-3", passengers_order(run, 1), tvm.facts(run), 0)
        await tvm.checkout.charge("sale-3")  # the answer lost: the terminal is asked at once
        assert (await tvm.sale("sale-3")).state == "charged"
        done = await tvm.checkout.recover()  # as after a crash here: issue and print
        assert done == ["sale-3: charged -> done"]
        assert tvm.terminal.totals()["approved_count"] == 1
        assert len(tvm.printed_tokens(1)) == 1

    play(central, tmp_path, scene)


def test_a_timeout_without_a_charge_is_settled_as_declined(
    central: Central, tmp_path: Path
) -> None:
    run = train_run("G7204", dt.timedelta(hours=3))
    central.post("/v1/train-runs", run)

    async def scene(tvm: Machine) -> None:
        tvm.terminal.next("approve")  # a sale before: the terminal's last transaction is known
        await tvm.checkout.hold("sale-0", passengers_order(run, 1, first=2), tvm.facts(run), 0)
        await tvm.checkout.charge("sale-0")
        tvm.terminal.next("timeout")
        await tvm.checkout.hold("sale-4", passengers_order(run, 1), tvm.facts(run), 0)
        with pytest.raises(PurchaseFailed):
            await tvm.checkout.charge("sale-4")
        await tvm.checkout.recover()  # sale-0 is issued and printed; sale-4 was never charged
        sale = await tvm.sale("sale-4")
        assert (sale.state, sale.is_open) == ("declined", False)
        assert tvm.terminal.totals()["approved_count"] == 1  # sale-0 only

    play(central, tmp_path, scene)


def test_a_charge_central_will_not_issue_is_reversed(central: Central, tmp_path: Path) -> None:
    run = train_run("G7205", dt.timedelta(hours=3))
    central.post("/v1/train-runs", run)

    async def scene(tvm: Machine) -> None:
        tvm.terminal.next("approve")
        held = await tvm.checkout.hold("sale-5", passengers_order(run, 1), tvm.facts(run), 0)
        await tvm.checkout.charge("sale-5")
        central.post(f"/v1/orders/{held.order_id}/cancel")  # e.g. the hold ran out meanwhile
        with pytest.raises(PurchaseFailed) as failed:
            await tvm.checkout.issue("sale-5")
        assert failed.value.state is SaleState.REVERSED
        sale = await tvm.sale("sale-5")
        assert (sale.state, sale.is_open) == ("reversed", False)
        totals = tvm.terminal.totals()
        assert totals["approved_count"] == totals["reversed_count"] == 1

    play(central, tmp_path, scene)


def test_paper_out_stops_printing_and_the_sale_prints_once_paper_is_back(
    central: Central, tmp_path: Path
) -> None:
    run = train_run("G7206", dt.timedelta(hours=3))
    central.post("/v1/train-runs", run)

    async def scene(tvm: Machine) -> None:
        tvm.terminal.next("approve")
        await tvm.checkout.hold("sale-6", passengers_order(run, 1), tvm.facts(run), 0)
        await tvm.checkout.charge("sale-6")
        await tvm.checkout.issue("sale-6")
        tvm.printer_state("paper", state="out")
        with pytest.raises(Exception, match="paper"):
            await tvm.checkout.print_tickets("sale-6")
        sale = await tvm.sale("sale-6")
        assert (sale.state, sale.printed) == ("issued", 0) and sale.is_open
        tvm.printer_state("paper", state="ok")
        assert await tvm.checkout.recover() == ["sale-6: issued -> done"]
        assert len(tvm.printed_tokens(1)) == 1

    play(central, tmp_path, scene)


def central_seats(central: Central, run: dict[str, Any]) -> int:
    journey = {"train": run["train"], "date": run["date"], "from": "AAA", "to": "CCC"}
    classes = central.get("/v1/availability", **journey)["classes"]
    return int(next(c["seats"] for c in classes if c["class"] == "ZE"))
