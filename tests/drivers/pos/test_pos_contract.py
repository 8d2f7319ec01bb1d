"""BankTerminal's contract, against the simulator over a real pty (and a real terminal if named).

The first tests need no script and also run on a real terminal when
STATIONKIT_POS_DEVICE names its line (a person presents the card); the
rest script the simulator: declines, timeouts, lost answers, dropped
lines, late answers, faults on the line. STATIONKIT_POS_CURRENCY sets the
real terminal's currency (default 156).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from drivers.errors import DriverError, DriverErrorCode
from drivers.pos.config import BankTerminalConfig, open_bank_terminal
from drivers.pos.link import RequestNotDelivered
from drivers.pos.results import Outcome, new_transaction_id
from drivers.pos.simulator.steering import TerminalScript
from drivers.pos.terminal import BankTerminal, ReversalRefused, UnresolvedTransaction
from drivers.sim.control import SimulatorClient
from protocol.fields import masked_card

T = TypeVar("T")
DEVICE_ENV = "STATIONKIT_POS_DEVICE"
CURRENCY = 156
SIM_ACK_TIMEOUT_S = 0.5  # the simulator gives up on a register that does not ACK after 3 x this


Simulated = tuple[BankTerminal, TerminalScript]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """One coroutine on a fresh event loop (the terminal serves any loop)."""
    return asyncio.run(coroutine)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short private directory (a Unix socket path must stay under 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="pos-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sim_config(short_dir: Path) -> BankTerminalConfig:
    """A sim backend with a control socket and timeouts short enough for a quick suite."""
    return BankTerminalConfig(
        backend="sim",
        currency=CURRENCY,
        control_socket=str(short_dir / "pos.sock"),
        ack_timeout_s=0.5,
        frame_timeout_s=1.0,
        answer_timeout_s=1.5,
    )


@pytest.fixture
def simulated(
    sim_config: BankTerminalConfig,
) -> Iterator[tuple[BankTerminal, TerminalScript]]:
    """A BankTerminal on the simulator backend, and the script of that simulator."""
    terminal = open_bank_terminal(sim_config)
    assert sim_config.control_socket is not None
    client = SimulatorClient(Path(sim_config.control_socket))
    script = TerminalScript(client)
    try:
        script.timing(ack_timeout_s=SIM_ACK_TIMEOUT_S)
        yield terminal, script
    finally:
        client.close()
        asyncio.run(terminal.close())


@pytest.fixture
def device_terminal() -> Iterator[BankTerminal]:
    """A BankTerminal on the real terminal named by STATIONKIT_POS_DEVICE (skipped without)."""
    url = os.environ.get(DEVICE_ENV)
    if not url:
        pytest.skip(f"no real terminal: set {DEVICE_ENV} to its serial line")
    currency = int(os.environ.get("STATIONKIT_POS_CURRENCY", CURRENCY))
    terminal = open_bank_terminal(BankTerminalConfig(backend="concert", url=url, currency=currency))
    try:
        yield terminal
    finally:
        asyncio.run(terminal.close())


@pytest.fixture(params=["sim", "device"])
def terminal(request: pytest.FixtureRequest) -> BankTerminal:
    """Every backend that can run here."""
    if request.param == "sim":
        simulated: Simulated = request.getfixturevalue("simulated")
        return simulated[0]
    device: BankTerminal = request.getfixturevalue("device_terminal")
    return device


# Every backend


def test_an_approved_sale_carries_its_id_amount_and_masked_card(terminal: BankTerminal) -> None:
    transaction_id = new_transaction_id()
    result = run(terminal.sale(1250, transaction_id))
    assert result.outcome is Outcome.APPROVED and result.is_final
    assert (result.transaction_id, result.amount_fen, result.status_code) == (
        transaction_id,
        1250,
        "0",
    )
    assert result.card_masked is not None and masked_card(result.card_masked)
    assert terminal.health().unresolved_transaction is None


def test_status_of_the_last_sale_gives_its_answer_again(terminal: BankTerminal) -> None:
    transaction_id = new_transaction_id()
    sale = run(terminal.sale(800, transaction_id))
    status = run(terminal.status(transaction_id))
    assert status.outcome is sale.outcome is Outcome.APPROVED
    assert (status.amount_fen, status.authorisation_code) == (800, sale.authorisation_code)


def test_totals_count_each_approved_sale_once(terminal: BankTerminal) -> None:
    before = run(terminal.totals())
    transaction_id = new_transaction_id()
    run(terminal.sale(500, transaction_id))
    run(terminal.status(transaction_id))  # the same sale seen twice
    after = run(terminal.totals())
    assert after.approved_count == before.approved_count + 1
    assert after.net_fen == before.net_fen + 500


def test_bad_arguments_are_refused_before_anything_is_sent(terminal: BankTerminal) -> None:
    for amount, transaction_id in [(0, "1234567890"), (100, "123"), (100, "0000000000")]:
        with pytest.raises(ValueError):
            run(terminal.sale(amount, transaction_id))
    with pytest.raises(ValueError):
        run(terminal.sale(True, "1234567890"))


# The simulator, scripted


def test_a_decline_is_final_and_moves_no_money(simulated: Simulated) -> None:
    terminal, script = simulated
    script.next("decline")
    result = run(terminal.sale(300, new_transaction_id()))
    assert result.outcome is Outcome.DECLINED and result.is_final
    assert result.acquirer is None and result.status_code == "7"
    assert script.totals()["approved_count"] == 0
    assert terminal.health().unresolved_transaction is None


def test_a_timeout_is_unknown_and_status_finds_it_never_happened(simulated: Simulated) -> None:
    terminal, script = simulated
    earlier = new_transaction_id()
    run(terminal.sale(100, earlier))
    script.next("timeout")
    swallowed = new_transaction_id()
    result = run(terminal.sale(200, swallowed))
    assert result.outcome is Outcome.UNKNOWN and not result.is_final
    assert terminal.health().unresolved_transaction == swallowed
    status = run(terminal.status(swallowed))
    assert status.outcome is Outcome.NOT_FOUND and earlier in status.reason
    assert terminal.health().unresolved_transaction is None
    assert run(terminal.sale(200, new_transaction_id())).outcome is Outcome.APPROVED


def test_a_lost_approval_is_unknown_until_status_finds_it_approved(simulated: Simulated) -> None:
    terminal, script = simulated
    script.next("approve_lose_answer")
    transaction_id = new_transaction_id()
    assert run(terminal.sale(400, transaction_id)).outcome is Outcome.UNKNOWN
    with pytest.raises(UnresolvedTransaction) as refused:
        run(terminal.sale(400, new_transaction_id()))  # never a blind retry
    assert refused.value.code is DriverErrorCode.UNAVAILABLE
    status = run(terminal.status(transaction_id))
    assert status.outcome is Outcome.APPROVED and status.amount_fen == 400
    booked = script.journal()[-1]
    assert (booked["private"], booked["authorisation_code"]) == (
        transaction_id,
        status.authorisation_code,
    )
    assert run(terminal.totals()).approved_fen == script.totals()["approved_fen"] == 400


@pytest.mark.parametrize(
    ("booked", "outcome"), [(True, Outcome.APPROVED), (False, Outcome.NOT_FOUND)]
)
def test_a_dropped_line_is_unknown_and_status_tells_what_happened(
    simulated: Simulated, booked: bool, outcome: Outcome
) -> None:
    terminal, script = simulated
    run(terminal.sale(100, new_transaction_id()))
    script.next("drop", booked=booked)
    transaction_id = new_transaction_id()
    result = run(terminal.sale(900, transaction_id))
    assert result.outcome is Outcome.UNKNOWN and "line dropped" in result.reason
    script.expect("line_dropped")
    assert terminal.health().last_error is DriverErrorCode.LINK_LOST
    assert run(terminal.status(transaction_id)).outcome is outcome
    assert terminal.health().reopened == 1


def test_a_late_answer_within_the_timeout_is_taken(simulated: Simulated) -> None:
    terminal, script = simulated
    script.next("late", ms=200)
    assert run(terminal.sale(700, new_transaction_id())).outcome is Outcome.APPROVED


def test_a_late_answer_beyond_the_timeout_is_recovered_by_status(
    simulated: Simulated, sim_config: BankTerminalConfig
) -> None:
    terminal, script = simulated
    late_ms = int(sim_config.answer_timeout_s * 1000) + 500
    script.next("late", ms=late_ms)
    transaction_id = new_transaction_id()
    assert run(terminal.sale(700, transaction_id)).outcome is Outcome.UNKNOWN
    # the simulator answers, nobody listens, it gives up: the answer is lost
    script.expect("answer_lost", timeout=late_ms / 1000 + 10, private=transaction_id)
    status = run(terminal.status(transaction_id))
    assert status.outcome is Outcome.APPROVED and status.amount_fen == 700


def test_status_while_the_terminal_is_still_busy_stays_unknown(simulated: Simulated) -> None:
    terminal, script = simulated
    script.next("late", ms=600_000)  # a passenger who never finishes
    transaction_id = new_transaction_id()
    assert run(terminal.sale(700, transaction_id)).outcome is Outcome.UNKNOWN
    status = run(terminal.status(transaction_id))
    assert status.outcome is Outcome.UNKNOWN and "no duplicata" in status.reason
    assert terminal.health().unresolved_transaction == transaction_id
    with pytest.raises(UnresolvedTransaction):
        run(terminal.reverse_last(new_transaction_id(), new_transaction_id()))


def test_status_on_a_terminal_without_transactions_cannot_tell(simulated: Simulated) -> None:
    terminal, _ = simulated
    status = run(terminal.status(new_transaction_id()))
    assert status.outcome is Outcome.UNKNOWN and "names no transaction" in status.reason


def test_the_last_sale_is_reversed_once_however_often_it_is_asked(simulated: Simulated) -> None:
    terminal, script = simulated
    sale_id, reversal_id = new_transaction_id(), new_transaction_id()
    run(terminal.sale(1500, sale_id))
    first = run(terminal.reverse_last(sale_id, reversal_id))
    again = run(terminal.reverse_last(sale_id, reversal_id))
    assert first.outcome is again.outcome is Outcome.APPROVED
    assert (first.transaction_id, first.amount_fen) == (reversal_id, 1500)
    assert again.authorisation_code == first.authorisation_code
    assert script.totals() == {
        "approved_count": 1,
        "approved_fen": 1500,
        "reversed_count": 1,
        "reversed_fen": 1500,
    }
    assert run(terminal.status(sale_id)).outcome is Outcome.NOT_FOUND  # the annulation is last


def test_only_the_last_approved_sale_can_be_reversed(simulated: Simulated) -> None:
    terminal, script = simulated
    older, newer = new_transaction_id(), new_transaction_id()
    run(terminal.sale(100, older))
    run(terminal.sale(200, newer))
    with pytest.raises(ReversalRefused, match="not the terminal's last"):
        run(terminal.reverse_last(older, new_transaction_id()))
    script.next("decline")
    declined = new_transaction_id()
    run(terminal.sale(300, declined))
    with pytest.raises(ReversalRefused, match="nothing to reverse") as refused:
        run(terminal.reverse_last(declined, new_transaction_id()))
    assert refused.value.code is DriverErrorCode.REFUSED
    assert script.totals()["reversed_count"] == 0


def test_an_unknown_sale_can_be_reversed_once_status_is_read(simulated: Simulated) -> None:
    terminal, script = simulated
    script.next("approve_lose_answer")
    sale_id = new_transaction_id()
    run(terminal.sale(650, sale_id))
    reversal = run(terminal.reverse_last(sale_id, new_transaction_id()))
    assert reversal.outcome is Outcome.APPROVED and reversal.amount_fen == 650
    assert terminal.health().unresolved_transaction is None


def test_the_registers_totals_match_the_terminals_own(simulated: Simulated) -> None:
    terminal, script = simulated
    plan = [("approve", 1000), ("decline", 200), ("approve_lose_answer", 300), ("approve", 50)]
    last_id = ""
    for outcome, amount in plan:
        script.next(outcome)
        last_id = new_transaction_id()
        if run(terminal.sale(amount, last_id)).outcome is Outcome.UNKNOWN:
            run(terminal.status(last_id))
    run(terminal.reverse_last(last_id, new_transaction_id()))
    ours = run(terminal.totals())
    assert script.totals() == {
        "approved_count": ours.approved_count,
        "approved_fen": ours.approved_fen,
        "reversed_count": ours.reversed_count,
        "reversed_fen": ours.reversed_fen,
    }
    assert ours.net_fen == 1300


def test_a_full_card_number_from_the_terminal_is_masked_everywhere(
    simulated: Simulated, caplog: pytest.LogCaptureFixture
) -> None:
    terminal, script = simulated
    full = "6228480402564890018"
    assert script.card(full, acquirer="ICBC")["card"] == "622848*********0018"
    caplog.set_level(logging.DEBUG)
    script.next("approve_lose_answer")
    transaction_id = new_transaction_id()
    run(terminal.sale(100, transaction_id))
    result = run(terminal.status(transaction_id))
    assert result.card_masked == "622848*********0018" and result.acquirer == "ICBC"
    assert full not in repr(result) + caplog.text
    script.expect("frame_sent", private=transaction_id)  # the last event of the exchange
    assert full not in json.dumps(script.steering.events())


def test_an_answer_with_a_bad_lrc_is_naked_and_taken_when_repeated(simulated: Simulated) -> None:
    terminal, script = simulated
    script.faults(corrupt_answers=1)
    assert run(terminal.sale(100, new_transaction_id())).outcome is Outcome.APPROVED
    health = terminal.health()
    assert (health.naks_sent, health.frame_errors) == (1, 1)
    script.expect("frame_sent", attempt=2)  # the corrupted copy was sent again


def test_a_request_the_terminal_naks_is_sent_again(simulated: Simulated) -> None:
    terminal, script = simulated
    script.faults(nak_requests=2)
    assert run(terminal.sale(100, new_transaction_id())).outcome is Outcome.APPROVED
    assert terminal.health().naks_received == 2


def test_a_request_refused_every_time_certainly_moved_no_money(simulated: Simulated) -> None:
    terminal, script = simulated
    script.faults(nak_requests=3)
    transaction_id = new_transaction_id()
    with pytest.raises(RequestNotDelivered) as failed:
        run(terminal.sale(100, transaction_id))
    assert isinstance(failed.value, DriverError)
    assert script.journal() == [] and terminal.health().unresolved_transaction is None
    assert run(terminal.sale(100, transaction_id)).outcome is Outcome.APPROVED  # safe to send


def test_closing_during_a_sale_leaves_it_unknown_not_hanging(simulated: Simulated) -> None:
    terminal, script = simulated
    script.next("timeout")

    async def sale_then_close() -> Outcome:
        sale = asyncio.ensure_future(terminal.sale(100, new_transaction_id()))
        await asyncio.to_thread(script.expect, "unanswered")
        await terminal.close()
        return (await sale).outcome

    assert run(sale_then_close()) is Outcome.UNKNOWN
    assert not terminal.health().is_open
    with pytest.raises(DriverError):
        run(terminal.status(new_transaction_id()))


def test_a_technician_can_release_an_outcome_settled_by_hand(simulated: Simulated) -> None:
    terminal, script = simulated
    script.next("timeout")
    stuck = new_transaction_id()
    run(terminal.sale(100, stuck))
    terminal.release_unresolved(new_transaction_id())  # another id: nothing changes
    assert terminal.health().unresolved_transaction == stuck
    terminal.release_unresolved(stuck)
    assert run(terminal.sale(100, new_transaction_id())).outcome is Outcome.APPROVED
