"""A ticket changed at the TVM: the difference charged, central's change, the new ticket printed.

Against central in its own process and the terminal and printer simulators,
through the checkout's journal: a change that costs nothing more, one that
central refuses after the card paid, and a restart at the two worst moments
(the difference charged but central not asked; central changed the ticket
but its answer was lost).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from central_rig import Central, train_run
from tvm_rig import ID_NUMBERS, Machine, machine, passengers_order

from device.tvm.checkout import PurchaseFailed, SaleState
from protocol.messages import ChangeRequest, JourneySpec

pytestmark = pytest.mark.slow


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    server = Central(tmp_path / "central").start()
    yield server
    server.stop()


def runs(central: Central, later_fare: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run to buy on and a later one, ``later_fare`` fen per km, to change to."""
    first, later = (
        train_run("G7301", dt.timedelta(hours=3)),
        train_run("G7303", dt.timedelta(hours=4)),
    )
    later["fares"] = {"ZE": later_fare}
    for run in (first, later):
        central.post("/v1/train-runs", run)
    return first, later


def journey(run: dict[str, Any]) -> JourneySpec:
    return JourneySpec.model_validate(
        {"train": run["train"], "date": run["date"], "from": "AAA", "to": "CCC", "class": "ZE"}
    )


def play(central: Central, tmp_path: Path, scene: Callable[[Machine], Awaitable[None]]) -> None:
    async def run() -> None:
        async with machine(central, tmp_path) as tvm:
            await scene(tvm)

    asyncio.run(run())


async def bought(tvm: Machine, run: dict[str, Any]) -> str:
    """One ticket bought by card and printed; its id."""
    tvm.terminal.next("approve")
    await tvm.checkout.hold("buy", passengers_order(run, 1), tvm.facts(run), 0)
    await tvm.checkout.charge("buy")
    issued = await tvm.checkout.issue("buy")
    await tvm.checkout.print_tickets("buy")
    return str(issued.tickets[0].ticket_id)


async def quoted(tvm: Machine, ticket_id: str, to: dict[str, Any]) -> tuple[ChangeRequest, int]:
    """A change of ``ticket_id`` to ``to`` journaled as the desk does it; the request, the due."""
    spec = journey(to)
    params = spec.model_dump(mode="json", by_alias=True)
    quote = await tvm.checkout.link.change_quote(ticket_id, params)
    due = max(0, quote.price_difference_fen)
    await tvm.checkout.begin_change("change", ticket_id, spec, tvm.facts(to), due)
    request = ChangeRequest.model_validate({**params, "id_number": ID_NUMBERS[0]})
    return request, due


async def charged(
    tvm: Machine, first: dict[str, Any], later: dict[str, Any]
) -> tuple[str, ChangeRequest, int]:
    """A ticket bought on ``first``, its change to ``later`` quoted and the difference charged."""
    old = await bought(tvm, first)
    request, due = await quoted(tvm, old, later)
    tvm.terminal.next("approve")
    await tvm.checkout.charge("change")
    return old, request, due


def test_a_change_to_a_cheaper_train_charges_nothing_and_prints_the_new_ticket(
    central: Central, tmp_path: Path
) -> None:
    first, later = runs(central, later_fare=30)

    async def scene(tvm: Machine) -> None:
        old = await bought(tvm, first)
        request, due = await quoted(tvm, old, later)
        assert due == 0
        new = await tvm.checkout.change("change", request)
        await tvm.checkout.print_tickets("change")
        sale = await tvm.sale("change")
        assert (sale.kind, sale.state, sale.is_open, sale.transaction_id) == (
            "change",
            "done",
            False,
            None,
        )
        assert tvm.terminal.totals()["approved_count"] == 1  # the purchase only
        assert central.get(f"/v1/tickets/{old}")["replaced_by"] == new.ticket_id
        assert str(new.token) in tvm.printed_tokens(2)

    play(central, tmp_path, scene)


def test_a_change_central_refuses_after_the_card_paid_is_reversed(
    central: Central, tmp_path: Path
) -> None:
    first, later = runs(central, later_fare=60)

    async def scene(tvm: Machine) -> None:
        old, request, due = await charged(tvm, first, later)
        someone_else = request.model_copy(update={"id_number": ID_NUMBERS[1]})
        with pytest.raises(PurchaseFailed) as failed:
            await tvm.checkout.change("change", someone_else)
        assert failed.value.state is SaleState.REVERSED
        sale = await tvm.sale("change")
        assert (sale.state, sale.is_open, sale.amount_fen) == ("reversed", False, due)
        assert central.get(f"/v1/tickets/{old}")["status"] == "issued"
        totals = tvm.terminal.totals()
        assert totals["approved_fen"] - totals.get("reversed_fen", 0) == first_price(central, old)

    play(central, tmp_path, scene)


def first_price(central: Central, ticket_id: str) -> int:
    return int(central.get(f"/v1/tickets/{ticket_id}")["price_fen"])


def test_a_restart_after_the_difference_was_charged_gives_it_back(
    central: Central, tmp_path: Path
) -> None:
    """The ID number central asks for is gone with the crash: the change is undone, not guessed."""
    first, later = runs(central, later_fare=60)

    async def scene(tvm: Machine) -> None:
        old, _, due = await charged(tvm, first, later)  # ... and the TVM loses power here
        await tvm.checkout.recover()
        sale = await tvm.sale("change")
        assert (sale.state, sale.is_open) == ("reversed", False)
        assert central.get(f"/v1/tickets/{old}")["status"] == "issued"
        totals = tvm.terminal.totals()
        assert (totals["approved_count"], totals["reversed_count"]) == (2, 1)
        assert totals["reversed_fen"] == due
        tvm.printed_tokens(1)  # the first ticket only

    play(central, tmp_path, scene)


def test_a_change_made_at_central_whose_answer_was_lost_is_printed_after_a_restart(
    central: Central, tmp_path: Path
) -> None:
    first, later = runs(central, later_fare=60)

    async def scene(tvm: Machine) -> None:
        old, request, due = await charged(tvm, first, later)
        # central makes the change; the TVM dies before it journals the answer
        answer = await tvm.checkout.link.change(old, request, key="change:change")
        await tvm.checkout.recover()
        sale = await tvm.sale("change")
        assert (sale.state, sale.is_open, sale.printed) == ("done", False, 1)
        assert sale.tickets is not None and sale.tickets[0]["ticket_id"] == answer.ticket.ticket_id
        assert str(answer.ticket.token) in tvm.printed_tokens(2)
        totals = tvm.terminal.totals()
        assert totals["approved_fen"] == first_price(central, old) + due
        assert totals.get("reversed_count", 0) == 0

    play(central, tmp_path, scene)
