"""The simulated terminal: serves the register's requests, follows its script, keeps its books.

Scripted over the control channel (each command is confirmed by an event,
so a test knows it took effect before it starts a sale):

- ``next {"outcome": ...}`` queues the outcome of the next transaction
  (debit or annulation; without one it approves): ``approve``, ``decline``,
  ``timeout`` (swallows the request: no answer, nothing booked), ``drop``
  (books it unless ``"booked": false``, then cuts the line), ``late``
  (``"ms"``: works that long, ignoring the register, then approves),
  ``approve_lose_answer`` (approves and books; the answer never leaves);
  confirmed by ``scripted``.
- ``card {"masked": ..., "acquirer": ...}``: the card of the next approvals
  (``card_set``). ``faults {"nak_requests": n, "corrupt_answers": m}``
  (``faults_set``). ``timing {"ack_timeout_s": s, "frame_timeout_s": s,
  "attempts": n}`` (``timing_set``).
- ``totals`` and ``journal`` report the terminal's own books.

It reports every frame it receives (``frame_received``) and sends
(``frame_sent``), every booking (``transaction``), and ``answer_lost``,
``line_dropped``, ``busy_ignored``, ``nak_sent``, ``yielded_to_register``.
Card numbers in events are masked.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from threading import Event
from typing import Any

from drivers.pos.records import (
    AnswerRecord,
    RecordError,
    Request,
    TransactionType,
    decode_request,
    encode_answer,
)
from drivers.pos.simulator.book import DEFAULT_ACQUIRER, TerminalBook, is_transaction
from drivers.pos.simulator.line import Emit, TerminalSide
from drivers.sim.control import Handler, Message

OUTCOMES = frozenset({"approve", "decline", "timeout", "drop", "late", "approve_lose_answer"})
MAX_LATE_MS = 600_000


@dataclass(frozen=True)
class Step:
    """One scripted outcome."""

    outcome: str
    ms: int = 0
    booked: bool = True

    @classmethod
    def from_command(cls, message: Message) -> Step:
        """The step a ``next`` command asks for; ValueError if it is not one."""
        outcome = message.get("outcome")
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(sorted(OUTCOMES))}")
        ms = message.get("ms", 0)
        if not isinstance(ms, int) or not 0 <= ms <= MAX_LATE_MS:
            raise ValueError(f"ms must be an integer from 0 to {MAX_LATE_MS}")
        return cls(outcome, ms, bool(message.get("booked", True)))


class SimulatedTerminal:
    """A Concert terminal's behaviour, steered by its control channel."""

    def __init__(self, side: TerminalSide, emit: Emit) -> None:
        self._side = side
        self._emit = emit
        self._book = TerminalBook()
        self._script: deque[Step] = deque()
        self._lock = threading.Lock()  # the control thread and the line thread share the state

    def handlers(self) -> dict[str, Handler]:
        """The control commands this terminal obeys."""
        return {
            "next": self._command_next,
            "card": self._command_card,
            "faults": self._command_faults,
            "timing": self._command_timing,
            "totals": self._command_totals,
            "journal": self._command_journal,
        }

    def run(self, stop: Event) -> None:
        """Serve the register until ``stop``; a bad request never ends it."""
        while not stop.is_set():
            payload = self._side.await_request(stop)
            if payload is None:
                continue
            try:
                self._serve(payload, stop)
            except Exception as exc:  # the terminal must outlive its own mistakes
                self._emit("error", message=f"serving a request failed: {exc}")

    def _serve(self, payload: bytes, stop: Event) -> None:
        try:
            request = decode_request(payload)
        except RecordError as exc:
            self._emit("frame_received", valid=False, size=len(payload), message=str(exc))
            return
        self._emit("frame_received", valid=True, **_request_fields(request))
        if request.transaction_type == TransactionType.DUPLICATA:
            with self._lock:
                answer = self._book.duplicata(request)
            self._answer(answer)
        elif is_transaction(request):
            self._transaction(request, self._next_step(), stop)
        else:
            self._answer(self._book.refuse(request))

    def _transaction(self, request: Request, step: Step, stop: Event) -> None:
        if step.outcome in ("approve", "decline"):
            self._answer(self._book_it(request, approve=step.outcome == "approve"))
        elif step.outcome == "approve_lose_answer":
            self._book_it(request, approve=True)
            self._emit("answer_lost", private=request.private, reason="scripted")
        elif step.outcome == "late":
            self._side.stay_busy(step.ms / 1000, stop)
            self._answer(self._book_it(request, approve=True))
        elif step.outcome == "drop":
            self._drop(request, step.booked)
        else:
            self._emit("unanswered", private=request.private)

    def _drop(self, request: Request, booked: bool) -> None:
        if booked:
            self._book_it(request, approve=True)
        self._side.line.drop()
        self._side.forget_input()
        line = self._side.line
        self._emit("line_dropped", path=str(line.link_path), pty=line.pty_path, booked=booked)

    def _book_it(self, request: Request, approve: bool) -> AnswerRecord:
        with self._lock:
            if request.transaction_type == TransactionType.DEBIT:
                answer = self._book.debit(request, approve)
            else:
                answer = self._book.annul(request, approve)
            entry = self._book.journal[-1]
        self._emit("transaction", **asdict(entry))
        return answer

    def _answer(self, answer: AnswerRecord) -> None:
        if not self._side.send(encode_answer(answer)):
            self._emit("answer_lost", private=answer.private, reason="the register did not take it")

    def _next_step(self) -> Step:
        with self._lock:
            return self._script.popleft() if self._script else Step("approve")

    def _command_next(self, message: Message) -> None:
        step = Step.from_command(message)
        with self._lock:
            self._script.append(step)
            queued = len(self._script)
        self._emit("scripted", outcome=step.outcome, ms=step.ms, queued=queued)

    def _command_card(self, message: Message) -> None:
        number = message.get("masked")
        acquirer = message.get("acquirer", DEFAULT_ACQUIRER)
        if not isinstance(number, str) or not isinstance(acquirer, str):
            raise ValueError('card needs "masked" (and optionally "acquirer") strings')
        with self._lock:
            self._book.present_card(number, acquirer)
            shown = self._book.card_masked
        self._emit("card_set", card=shown, acquirer=acquirer)

    def _command_faults(self, message: Message) -> None:
        faults = self._side.faults
        with self._lock:
            faults.nak_requests = _count(message, "nak_requests", faults.nak_requests)
            faults.corrupt_answers = _count(message, "corrupt_answers", faults.corrupt_answers)
        self._emit("faults_set", **asdict(faults))

    def _command_timing(self, message: Message) -> None:
        timing = self._side.timing
        with self._lock:
            timing.ack_timeout_s = _seconds(message, "ack_timeout_s", timing.ack_timeout_s)
            timing.frame_timeout_s = _seconds(message, "frame_timeout_s", timing.frame_timeout_s)
            timing.attempts = _count(message, "attempts", timing.attempts, minimum=1)
        self._emit("timing_set", **asdict(timing))

    def _command_totals(self, _message: Message) -> None:
        with self._lock:
            totals = self._book.totals()
        self._emit("totals", **asdict(totals))

    def _command_journal(self, _message: Message) -> None:
        with self._lock:
            entries = self._book.journal_events()
        self._emit("journal", entries=entries)


def _request_fields(request: Request) -> dict[str, Any]:
    return {
        "type": request.transaction_type,
        "amount": request.amount,
        "pos": request.pos_number,
        "currency": request.currency,
        "private": request.private,
        "answer_flag": request.answer_flag,
    }


def _count(message: Message, key: str, default: int, minimum: int = 0) -> int:
    value = message.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= 100:
        raise ValueError(f"{key} must be an integer from {minimum} to 100")
    return value


def _seconds(message: Message, key: str, default: float) -> float:
    value = message.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0.01 <= value <= 60:
        raise ValueError(f"{key} must be a number of seconds from 0.01 to 60")
    return float(value)
