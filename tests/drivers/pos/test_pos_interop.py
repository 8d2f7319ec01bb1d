"""pyTeliumManager, an independent register-side Concert implementation, drives our simulator.

If our framing and pyTeliumManager's disagreed, these would fail where our
own two halves still agree. pyTeliumManager's default ``Telium`` class is
8N1 (``TeliumNativeSerial`` cannot configure a pty); it puts blanks in the
private field and does not retry after a NAK.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from telium import Telium, TeliumAsk  # type: ignore[import-untyped]
from telium.constant import (  # type: ignore[import-untyped]
    TERMINAL_ANSWER_SET_FULLSIZED,
    TERMINAL_ANSWER_SET_SMALLSIZED,
    TERMINAL_FORCE_AUTHORIZATION_DISABLE,
    TERMINAL_MODE_PAYMENT_DEBIT,
    TERMINAL_REQUEST_ANSWER_WAIT_FOR_TRANSACTION,
    TERMINAL_TYPE_PAYMENT_CARD,
)

from drivers.pos.records import TransactionType
from drivers.sim.control import SimulatorProcess

SIMULATOR = "drivers.pos.simulator"


def ask(
    amount: float,
    kind: str = TERMINAL_MODE_PAYMENT_DEBIT,
    answer_flag: str = TERMINAL_ANSWER_SET_FULLSIZED,
) -> TeliumAsk:
    return TeliumAsk(
        "1",
        answer_flag,
        kind,
        TERMINAL_TYPE_PAYMENT_CARD,
        "156",
        TERMINAL_REQUEST_ANSWER_WAIT_FOR_TRANSACTION,
        TERMINAL_FORCE_AUTHORIZATION_DISABLE,
        amount,
    )


@pytest.fixture
def simulator() -> Iterator[SimulatorProcess]:
    with SimulatorProcess(SIMULATOR) as process:
        process.send("timing", ack_timeout_s=0.3)
        process.expect("timing_set")
        yield process


@pytest.fixture
def device(simulator: SimulatorProcess) -> Iterator[Telium]:
    telium = Telium(simulator.events("ready")[0]["path"])
    yield telium
    telium.close()


def test_pytelium_gets_an_approval_with_a_masked_card(
    simulator: SimulatorProcess, device: Telium
) -> None:
    payment = ask(12.5)
    assert device.ask(payment) is True
    answer = device.verify(payment, waiting_timeout=5)
    assert answer is not None and answer.has_succeeded
    assert (answer.amount, answer.currency_numeric, answer.pos_number) == (12.5, "156", "01")
    assert answer.repport.split(" ")[0] == "622848******0018"
    assert answer.private == " " * 10  # echoed as the register sent it
    booked = simulator.expect("transaction")
    assert (booked["kind"], booked["amount"], booked["status"]) == ("debit", 1250, "0")


def test_pytelium_gets_a_decline(simulator: SimulatorProcess, device: Telium) -> None:
    simulator.send("next", outcome="decline")
    simulator.expect("scripted")
    payment = ask(3.0, answer_flag=TERMINAL_ANSWER_SET_SMALLSIZED)
    assert device.ask(payment) is True
    answer = device.verify(payment, waiting_timeout=5)
    assert answer is not None and not answer.has_succeeded
    assert answer.transaction_result == 7 and answer.repport == ""


def test_pytelium_times_out_on_a_terminal_that_never_answers(
    simulator: SimulatorProcess, device: Telium
) -> None:
    simulator.send("next", outcome="timeout")
    simulator.expect("scripted")
    payment = ask(4.0)
    assert device.ask(payment) is True
    assert device.verify(payment, waiting_timeout=1) is None
    simulator.send("totals")
    assert simulator.expect("totals")["approved_count"] == 0


def test_pytelium_reads_the_duplicata_of_the_last_answer(
    simulator: SimulatorProcess, device: Telium
) -> None:
    first = ask(7.5)
    assert device.ask(first) and device.verify(first, waiting_timeout=5) is not None
    again = ask(1.0, kind=TransactionType.DUPLICATA.value)  # pyTeliumManager wants some amount
    assert device.ask(again) is True
    answer = device.verify(again, waiting_timeout=5)
    assert answer is not None and answer.has_succeeded and answer.amount == 7.5


def test_pytelium_gives_up_after_a_nak_where_our_link_would_retry(
    simulator: SimulatorProcess, device: Telium
) -> None:
    simulator.send("faults", nak_requests=1)
    simulator.expect("faults_set")
    assert device.ask(ask(5.0)) is False
    simulator.expect("nak_sent", where=lambda e: e["reason"] == "scripted")
    simulator.send("journal")
    assert simulator.expect("journal")["entries"] == []
