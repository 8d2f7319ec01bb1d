"""BankTerminal against a terminal that answers oddly: nothing doubtful is ever taken as ours.

A rogue terminal (the simulator's own Concert half, on a real pty) takes
each request and sends back whatever answer the test builds from it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.pos.link import ConcertLink, LinkTiming, PyserialPort
from drivers.pos.records import AnswerRecord, Request, decode_request, encode_answer
from drivers.pos.report import build_report
from drivers.pos.results import Outcome, PaymentResult, new_transaction_id
from drivers.pos.simulator.line import Faults, SimLine, SimTiming, TerminalSide
from drivers.pos.terminal import BankTerminal, TerminalSettings

Answerer = Callable[[Request], AnswerRecord]
CARD_REPORT = build_report("622848******0018", "A1B2C3", "REF000000001", "ICBC")


def honest(request: Request) -> AnswerRecord:
    return AnswerRecord(
        request.pos_number, "0", request.amount, "1", request.currency, request.private, CARD_REPORT
    )


class RogueTerminal:
    """Serves one request after another with the answer the test chooses."""

    def __init__(self, line: SimLine) -> None:
        self.side = TerminalSide(line, SimTiming(0.3, 1.0, 3), Faults(), lambda *_, **__: None)
        self.answers: list[Answerer] = []
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _serve(self) -> None:
        while not self._stop.is_set():
            payload = self.side.await_request(self._stop)
            if payload is None:
                continue
            request = decode_request(payload)
            self.requests.append(request)
            answer = self.answers.pop(0) if self.answers else honest
            self.side.send(encode_answer(answer(request)))


@pytest.fixture
def rogue(tmp_path: Path) -> Iterator[tuple[BankTerminal, RogueTerminal]]:
    line = SimLine(tmp_path / "terminal")
    terminal_side = RogueTerminal(line)
    link = ConcertLink(lambda: PyserialPort(str(line.link_path), 9600), LinkTiming(0.3, 1.0, 3))
    settings = TerminalSettings(
        pos_number=1,
        currency=156,
        answer_timeout_s=1.0,
        status_timeout_s=1.0,
        acquirer="CONTRACT-BANK",
    )
    terminal = BankTerminal(link, settings)
    yield terminal, terminal_side
    asyncio.run(terminal.close())
    terminal_side.stop()
    line.close()


def changed(**fields: Any) -> Answerer:
    """An honest answer with some fields replaced."""

    def answer(request: Request) -> AnswerRecord:
        return dataclasses.replace(honest(request), **fields)

    return answer


def sale(terminal: BankTerminal, amount: int = 500) -> PaymentResult:
    return asyncio.run(terminal.sale(amount, new_transaction_id()))


def test_an_honest_answer_is_approved_with_its_report_fields(
    rogue: tuple[BankTerminal, RogueTerminal],
) -> None:
    terminal, _ = rogue
    result = sale(terminal)
    assert result.outcome is Outcome.APPROVED
    assert (result.authorisation_code, result.terminal_reference, result.acquirer) == (
        "A1B2C3",
        "REF000000001",
        "ICBC",
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"private": "9999999999"}, "another transaction"),
        ({"amount": 1}, "the answer is for 1, not 500"),
        ({"pos_number": 2}, "register 2"),
        ({"currency": 978}, "currency 978"),
        ({"status": "9"}, "terminal status '9'"),
        ({"status": "X"}, "terminal status 'X'"),
    ],
)
def test_a_doubtful_answer_is_unknown_and_blocks_the_next_sale(
    rogue: tuple[BankTerminal, RogueTerminal], fields: dict[str, Any], reason: str
) -> None:
    terminal, rogue_side = rogue
    rogue_side.answers.append(changed(**fields))
    result = sale(terminal)
    assert result.outcome is Outcome.UNKNOWN and reason in result.reason
    assert terminal.health().unresolved_transaction == result.transaction_id


def test_an_answer_without_our_id_never_settles_a_status(
    rogue: tuple[BankTerminal, RogueTerminal],
) -> None:
    terminal, rogue_side = rogue
    rogue_side.answers.extend([changed(private="0000000000")] * 2)
    unknown = sale(terminal)
    status = asyncio.run(terminal.status(unknown.transaction_id))
    assert status.outcome is Outcome.UNKNOWN and "names no transaction" in status.reason
    assert rogue_side.requests[-1].transaction_type == "3"
    assert rogue_side.requests[-1].private == " " * 10  # never one of our ids


def test_the_contract_acquirer_stands_in_when_the_answer_names_none(
    rogue: tuple[BankTerminal, RogueTerminal],
) -> None:
    terminal, rogue_side = rogue
    rogue_side.answers.append(changed(report="6228480402564890018" + "0" * 36))
    result = sale(terminal)
    assert result.outcome is Outcome.APPROVED
    assert (result.acquirer, result.card_masked) == ("CONTRACT-BANK", "622848******")
    assert result.authorisation_code is None
