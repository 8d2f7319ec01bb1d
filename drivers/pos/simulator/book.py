"""The simulated terminal's books: its journal, its last answer, its own totals.

Pure bookkeeping, no I/O: given a decoded request and a verdict, it books
the transaction and builds the answer a terminal would send. Like a Concert
terminal it remembers the answer of its last transaction (a duplicata
repeats it) and annuls only that last transaction, and only when it is an
approved debit of the same amount. The card it "reads" is whatever it was
told; it goes on the wire as given (a test may give a whole card number to
play a terminal that leaks one) but the books keep it masked.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from drivers.pos.records import (
    ANSWER_LONG,
    BLANK_PRIVATE,
    AnswerRecord,
    AnswerStatus,
    Request,
    TransactionType,
)
from drivers.pos.report import REPORT_LENGTH, build_report, mask_card

CARD_ON_WIRE = re.compile(r"[0-9*Xx]{4,19}")
DEFAULT_CARD = "622848******0018"
DEFAULT_ACQUIRER = "SIM-ACQUIRER"


@dataclass(frozen=True)
class JournalEntry:
    """One transaction the terminal answered (card masked)."""

    kind: str  # "debit" or "annulation"
    private: str
    amount: int
    status: str
    card_masked: str | None
    authorisation_code: str | None


@dataclass(frozen=True)
class Totals:
    """The terminal's own totals: approved debits and approved annulations."""

    approved_count: int
    approved_fen: int
    reversed_count: int
    reversed_fen: int


class TerminalBook:
    """Journal and last answer of one simulated terminal."""

    def __init__(self) -> None:
        self.journal: list[JournalEntry] = []
        self.last: AnswerRecord | None = None
        self._card = DEFAULT_CARD
        self._acquirer = DEFAULT_ACQUIRER
        self._sequence = 0

    def present_card(self, number: str, acquirer: str) -> None:
        """The card (and its acquirer) for the next approvals; ValueError if unusable."""
        if not CARD_ON_WIRE.fullmatch(number):
            raise ValueError("a card number is 4-19 digits, '*' or 'X'")
        build_report(number, "000000", "0" * 12, acquirer)  # refuses an acquirer that cannot fit
        self._card, self._acquirer = number, acquirer

    @property
    def card_masked(self) -> str:
        """The current card as events may show it."""
        return mask_card(self._card)

    def debit(self, request: Request, approve: bool) -> AnswerRecord:
        """Book a debit with the verdict given; the answer to send."""
        status = AnswerStatus.ACCEPTED if approve else AnswerStatus.REFUSED
        return self._book("debit", request, status)

    def annul(self, request: Request, approve: bool) -> AnswerRecord:
        """Book an annulation of the last transaction: refused unless it is annullable."""
        last = self.journal[-1] if self.journal else None
        annullable = (
            last is not None
            and last.kind == "debit"
            and last.status == AnswerStatus.ACCEPTED
            and last.amount == request.amount
        )
        status = AnswerStatus.ACCEPTED if approve and annullable else AnswerStatus.REFUSED
        return self._book("annulation", request, status)

    def duplicata(self, request: Request) -> AnswerRecord:
        """The last answer again; with none, a refusal that names no transaction."""
        if self.last is not None:
            return self.last
        return self._answer(request, AnswerStatus.REFUSED, private=BLANK_PRIVATE, report=None)

    def refuse(self, request: Request) -> AnswerRecord:
        """A refusal of a request this terminal does not serve (not booked)."""
        return self._answer(request, AnswerStatus.REFUSED, report=None)

    def totals(self) -> Totals:
        """Counts and sums of approved debits and approved annulations."""
        approved = [e.amount for e in self._accepted("debit")]
        reversed_ = [e.amount for e in self._accepted("annulation")]
        return Totals(len(approved), sum(approved), len(reversed_), sum(reversed_))

    def journal_events(self) -> list[dict[str, object]]:
        """The journal as plain values for an event."""
        return [asdict(entry) for entry in self.journal]

    def _accepted(self, kind: str) -> list[JournalEntry]:
        return [e for e in self.journal if e.kind == kind and e.status == AnswerStatus.ACCEPTED]

    def _book(self, kind: str, request: Request, status: AnswerStatus) -> AnswerRecord:
        self._sequence += 1
        accepted = status is AnswerStatus.ACCEPTED
        authorisation = f"{self._sequence:06d}" if accepted else None
        report = self._report(authorisation) if accepted else f"{self._card:<{REPORT_LENGTH}}"
        answer = self._answer(request, status, report=report)
        self.journal.append(
            JournalEntry(
                kind, request.private, request.amount, status.value, self.card_masked, authorisation
            )
        )
        self.last = answer
        return answer

    def _report(self, authorisation: str | None) -> str:
        reference = f"SIM{self._sequence:09d}"
        return build_report(self._card, authorisation or "000000", reference, self._acquirer)

    def _answer(
        self,
        request: Request,
        status: AnswerStatus,
        report: str | None,
        private: str | None = None,
    ) -> AnswerRecord:
        long_form = request.answer_flag == ANSWER_LONG
        return AnswerRecord(
            pos_number=request.pos_number,
            status=status.value,
            amount=request.amount,
            payment_mode=request.payment_mode,
            currency=request.currency,
            private=request.private if private is None else private,
            report=(report or " " * REPORT_LENGTH) if long_form else None,
        )


def is_transaction(request: Request) -> bool:
    """True for the requests a script's outcome applies to (debit, annulation)."""
    return request.transaction_type in (TransactionType.DEBIT, TransactionType.ANNULATION)
