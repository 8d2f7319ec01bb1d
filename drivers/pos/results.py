"""What the bank terminal tells the TVM: payment results, totals and health.

A ``PaymentResult`` never holds a card number, only its masked form. Its
``outcome`` is the one thing the TVM acts on: ``approved`` and ``declined``
are final; ``unknown`` means money may or may not have moved, and the TVM
must ask ``status`` before anything else; ``not_found`` (from ``status``
only) means the terminal's last transaction is another one, so the asked
one never took place.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from drivers.errors import DriverErrorCode
from drivers.pos.records import PRIVATE_LENGTH

TRANSACTION_ID = re.compile(rf"[0-9]{{{PRIVATE_LENGTH}}}")


class Outcome(StrEnum):
    """How a transaction ended, as far as the register can tell."""

    APPROVED = "approved"
    DECLINED = "declined"
    UNKNOWN = "unknown"  # ask status() before anything else
    NOT_FOUND = "not_found"  # status(): the terminal's last transaction is another one


@dataclass(frozen=True)
class PaymentResult:
    """One transaction's outcome and what the terminal said about it (no card number)."""

    outcome: Outcome
    transaction_id: str
    amount_fen: int | None = None  # as the terminal answered; None without an answer
    card_masked: str | None = None
    acquirer: str | None = None
    authorisation_code: str | None = None
    terminal_reference: str | None = None
    status_code: str | None = None  # Concert's status character, as answered
    reason: str = ""  # why declined, unknown or not found, for logs (never card data)

    @property
    def is_final(self) -> bool:
        """True when the outcome settles the transaction (no status() needed)."""
        return self.outcome is not Outcome.UNKNOWN


@dataclass(frozen=True)
class TerminalTotals:
    """Counts and sums of approved sales and approved reversals (annulations)."""

    approved_count: int = 0
    approved_fen: int = 0
    reversed_count: int = 0
    reversed_fen: int = 0

    @property
    def net_fen(self) -> int:
        """What the terminal's batch should settle: sales minus reversals."""
        return self.approved_fen - self.reversed_fen

    @classmethod
    def of(
        cls, sales: Iterable[PaymentResult], reversals: Iterable[PaymentResult]
    ) -> TerminalTotals:
        """Totals over results (e.g. a journal's), each transaction id counted once."""
        approved = _approved_amounts(sales)
        reversed_ = _approved_amounts(reversals)
        return cls(len(approved), sum(approved.values()), len(reversed_), sum(reversed_.values()))


@dataclass(frozen=True)
class TerminalHealth:
    """A snapshot for the unit's health report and the maintenance menu."""

    is_open: bool
    unresolved_transaction: str | None  # set while a transaction's outcome is unknown
    last_error: DriverErrorCode | None
    last_error_message: str
    enq_retries: int
    naks_received: int
    naks_sent: int
    frame_errors: int
    reopened: int


def new_transaction_id() -> str:
    """A fresh transaction id: ten random digits, never all zeros."""
    while (candidate := f"{secrets.randbelow(10**PRIVATE_LENGTH):0{PRIVATE_LENGTH}d}") == (
        "0" * PRIVATE_LENGTH
    ):
        continue
    return candidate


def check_transaction_id(transaction_id: str) -> str:
    """``transaction_id`` if it can travel in Concert's private field; ValueError if not.

    Ten digits, not all zeros: a terminal that does not return the private
    field has been seen to answer zeros, and those must never look like ours.
    """
    if not TRANSACTION_ID.fullmatch(transaction_id) or not transaction_id.strip("0"):
        raise ValueError(
            f"a transaction id is {PRIVATE_LENGTH} digits, not all zeros (Concert's private field)"
        )
    return transaction_id


def _approved_amounts(results: Iterable[PaymentResult]) -> dict[str, int]:
    return {
        result.transaction_id: result.amount_fen or 0
        for result in results
        if result.outcome is Outcome.APPROVED
    }
