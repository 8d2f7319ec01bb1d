"""BankTerminal: card payments on a Concert terminal, for the TVM's event loop.

The domain rules live here. Our transaction id travels in Concert's private
field and every answer must carry it back: an answer about another
transaction is never taken as ours. A sale is never retried: after a
timeout, a dropped line or any doubt the result is ``unknown``, the id stays
*unresolved*, and until ``status`` (Concert's duplicata of the terminal's
last transaction) settles it, a new sale or reversal is refused. Reversal
is Concert's annulation, which cancels only the terminal's last
transaction, so ``reverse_last`` first checks by duplicata that the last one
is the sale to reverse.

The Concert conversation is blocking (``ConcertLink`` over pyserial) and
runs in one worker thread, one operation at a time; the ``async`` methods
hand it there and never block the loop. Totals are kept by the register:
Concert E+ has no totals request (see ``totals``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from drivers.errors import DeviceTimeout, DeviceUnavailable, DriverError, DriverErrorCode
from drivers.pos.link import ConcertLink, RequestNotDelivered
from drivers.pos.records import (
    BLANK_PRIVATE,
    MAX_AMOUNT,
    Answer,
    AnswerStatus,
    Request,
    TransactionType,
    decode_answer,
    encode_request,
)
from drivers.pos.results import (
    Outcome,
    PaymentResult,
    TerminalHealth,
    TerminalTotals,
    check_transaction_id,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
VERDICTS = {
    AnswerStatus.ACCEPTED.value: Outcome.APPROVED,
    AnswerStatus.REFUSED.value: Outcome.DECLINED,
}


class Kind(StrEnum):
    """What a transaction id was issued for."""

    SALE = "sale"
    REVERSAL = "reversal"


class UnresolvedTransaction(DriverError):
    """Another transaction's outcome is still unknown: ``status`` must settle it first."""

    code = DriverErrorCode.UNAVAILABLE  # for the passenger: card payment is unavailable for now


class ReversalRefused(DriverError):
    """The terminal cannot annul that transaction (not its last, or not approved)."""

    code = DriverErrorCode.REFUSED


@dataclass(frozen=True)
class TerminalSettings:
    """What the domain class needs from the profile."""

    pos_number: int
    currency: int
    answer_timeout_s: float  # a sale: the passenger reads, inserts, types the PIN
    status_timeout_s: float  # a duplicata: the terminal answers at once
    acquirer: str | None = None  # the merchant contract's acquirer, when answers carry none


class BankTerminal:
    """The TVM's bank card terminal."""

    def __init__(
        self,
        link: ConcertLink,
        settings: TerminalSettings,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._link = link
        self._settings = settings
        self._on_close = on_close
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bank-terminal")
        self._lock = threading.Lock()
        self._closed = False
        self._unresolved: str | None = None
        self._issued: dict[str, Kind] = {}
        self._sales: dict[str, PaymentResult] = {}
        self._reversals: dict[str, PaymentResult] = {}
        self._last_error: DriverError | None = None

    async def sale(self, amount_fen: int, transaction_id: str) -> PaymentResult:
        """Charge ``amount_fen`` to a card; approved, declined or unknown (then call status).

        Raises a DriverError only when the terminal certainly did not take
        the request (nothing charged), UnresolvedTransaction while another
        outcome is unknown, ValueError for a bad amount or id.
        """
        return await self._call(self._sale, amount_fen, transaction_id)

    async def reverse_last(self, transaction_id: str, reversal_id: str) -> PaymentResult:
        """Annul sale ``transaction_id`` (it must be the terminal's last) as ``reversal_id``.

        The result is the annulation's own (its id is ``reversal_id``);
        calling again with the same ids after an unknown result is safe.
        ReversalRefused when the sale is not the terminal's last approved
        transaction (refund it instead); DeviceTimeout when the last
        transaction could not be read (no annulation was sent).
        """
        return await self._call(self._reverse_last, transaction_id, reversal_id)

    async def status(self, transaction_id: str) -> PaymentResult:
        """What became of ``transaction_id``: approved, declined, not_found, or still unknown."""
        return await self._call(self._status, transaction_id)

    async def totals(self) -> TerminalTotals:
        """Approved sales and reversals this terminal answered since it was opened.

        Concert E+ has no totals request, so these are the register's count
        of the terminal's answers (status answers included, each id once);
        over a whole shift, ``TerminalTotals.of`` computes the same from
        the journal's results.
        """
        with self._lock:
            return TerminalTotals.of(self._sales.values(), self._reversals.values())

    def health(self) -> TerminalHealth:
        """A snapshot of the line and the pending outcome (never blocks)."""
        counters = self._link.counters
        with self._lock:
            error = self._last_error
            unresolved = self._unresolved
        return TerminalHealth(
            is_open=self._link.is_open and not self._closed,
            unresolved_transaction=unresolved,
            last_error=None if error is None else error.code,
            last_error_message="" if error is None else error.message,
            enq_retries=counters.enq_retries,
            naks_received=counters.naks_received,
            naks_sent=counters.naks_sent,
            frame_errors=counters.frame_errors,
            reopened=counters.reopened,
        )

    def release_unresolved(self, transaction_id: str) -> None:
        """Forget an unknown outcome a technician settled from the terminal's own journal."""
        with self._lock:
            if self._unresolved == transaction_id:
                log.warning("transaction %s released by hand while unresolved", transaction_id)
                self._unresolved = None

    async def close(self) -> None:
        """Stop: a waiting exchange gives up (its result is unknown), then the line closes."""
        if self._closed:
            return
        self._closed = True
        self._link.abort()
        try:
            await asyncio.to_thread(self._worker.shutdown, True)
        finally:
            self._link.close()
            if self._on_close is not None:
                await asyncio.to_thread(self._on_close)

    async def _call(self, action: Callable[..., T], *args: object) -> T:
        if self._closed:
            raise DeviceUnavailable("the payment terminal is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, functools.partial(action, *args))

    # The blocking side: runs in the worker thread only.

    def _sale(self, amount_fen: int, transaction_id: str) -> PaymentResult:
        check_transaction_id(transaction_id)
        _check_amount(amount_fen)
        self._require_resolved()
        if transaction_id in self._issued:
            raise ValueError(f"transaction id {transaction_id} was already used")
        request = self._request(TransactionType.DEBIT, amount_fen, transaction_id)
        result = self._transact(Kind.SALE, request)
        log.info("sale %s: %s %s", transaction_id, result.outcome, result.reason)
        return result

    def _reverse_last(self, transaction_id: str, reversal_id: str) -> PaymentResult:
        check_transaction_id(transaction_id)
        check_transaction_id(reversal_id)
        if transaction_id == reversal_id:
            raise ValueError("a reversal needs an id of its own")
        self._require_resolved(transaction_id, reversal_id)
        last = self._duplicata()
        if isinstance(last, DriverError):
            raise DeviceTimeout(f"no annulation sent: {last.message}") from last
        if last.private == reversal_id:  # done already: this is a repeated call
            return self._settle(reversal_id, self._judge(last, reversal_id, None))
        amount = self._annulable_amount(last, transaction_id)
        request = self._request(TransactionType.ANNULATION, amount, reversal_id)
        result = self._transact(Kind.REVERSAL, request)
        log.info("reversal %s of %s: %s", reversal_id, transaction_id, result.outcome)
        return result

    def _status(self, transaction_id: str) -> PaymentResult:
        check_transaction_id(transaction_id)
        self._require_resolved(transaction_id)
        last = self._duplicata()
        if isinstance(last, DriverError):
            return self._unknown(transaction_id, f"no duplicata: {last.message}")
        result = self._settle(transaction_id, self._identify(last, transaction_id))
        log.info("status %s: %s %s", transaction_id, result.outcome, result.reason)
        return result

    def _annulable_amount(self, last: Answer, transaction_id: str) -> int:
        if last.private != transaction_id:
            raise ReversalRefused(
                f"{transaction_id} is not the terminal's last transaction: refund it instead"
            )
        sale = self._settle(transaction_id, self._judge(last, transaction_id, None))
        if sale.outcome is not Outcome.APPROVED:
            raise ReversalRefused(f"{transaction_id} is {sale.outcome}: nothing to reverse")
        return last.amount

    def _transact(self, kind: Kind, request: Request) -> PaymentResult:
        transaction_id = request.private
        with self._lock:
            self._issued[transaction_id] = kind
            self._unresolved = transaction_id  # until an answer settles it
        doubt = self._deliver(request)
        if doubt is not None:
            return doubt
        return self._await_answer(transaction_id, request.amount)

    def _deliver(self, request: Request) -> PaymentResult | None:
        try:
            self._link.send(encode_request(request))
        except RequestNotDelivered as exc:
            self._forget(request.private, exc)
            raise
        except DriverError as exc:
            self._note(exc)
            return self._unknown(request.private, f"the request may have reached it: {exc.message}")
        return None

    def _await_answer(self, transaction_id: str, amount: int) -> PaymentResult:
        try:
            answer = decode_answer(self._link.receive(self._settings.answer_timeout_s))
        except DriverError as exc:
            self._note(exc)
            return self._unknown(transaction_id, f"no answer: {exc.message}")
        return self._settle(transaction_id, self._judge(answer, transaction_id, amount))

    def _duplicata(self) -> Answer | DriverError:
        # our own private field stays blank here, so an answer that merely echoes
        # the request can never pass for the answer of one of our transactions
        request = self._request(TransactionType.DUPLICATA, 0, BLANK_PRIVATE)
        try:
            self._link.send(encode_request(request))
            return decode_answer(self._link.receive(self._settings.status_timeout_s))
        except DriverError as exc:
            self._note(exc)
            return exc

    def _identify(self, last: Answer, transaction_id: str) -> PaymentResult:
        if not last.private.strip(" 0"):
            return self._unknown(transaction_id, "the terminal's duplicata names no transaction")
        if last.private != transaction_id:
            reason = f"the terminal's last transaction is {last.private.strip()}"
            return PaymentResult(Outcome.NOT_FOUND, transaction_id, reason=reason)
        return self._judge(last, transaction_id, None)

    def _judge(self, answer: Answer, transaction_id: str, amount: int | None) -> PaymentResult:
        problem = self._mismatch(answer, transaction_id, amount)
        if problem:
            return self._unknown(transaction_id, problem)
        outcome = VERDICTS.get(answer.status, Outcome.UNKNOWN)
        report = answer.report
        return PaymentResult(
            outcome=outcome,
            transaction_id=transaction_id,
            amount_fen=answer.amount,
            card_masked=report.card_masked,
            acquirer=report.acquirer or self._contract_acquirer(outcome),
            authorisation_code=report.authorisation_code,
            terminal_reference=report.terminal_reference,
            status_code=answer.status,
            reason="" if outcome is Outcome.APPROVED else f"terminal status {answer.status!r}",
        )

    def _mismatch(self, answer: Answer, transaction_id: str, amount: int | None) -> str:
        if answer.private != transaction_id:
            return "the answer is about another transaction"
        if answer.pos_number != self._settings.pos_number:
            return f"the answer is for register {answer.pos_number}"
        if answer.currency != self._settings.currency:
            return f"the answer is in currency {answer.currency}"
        if amount is not None and answer.amount != amount:
            return f"the answer is for {answer.amount}, not {amount}"
        return ""

    def _contract_acquirer(self, outcome: Outcome) -> str | None:
        return self._settings.acquirer if outcome is Outcome.APPROVED else None

    def _settle(self, transaction_id: str, result: PaymentResult) -> PaymentResult:
        with self._lock:
            if result.is_final and self._unresolved == transaction_id:
                self._unresolved = None
            kind = self._issued.get(transaction_id)
            if result.outcome is Outcome.APPROVED and kind is Kind.SALE:
                self._sales[transaction_id] = result
            elif result.outcome is Outcome.APPROVED and kind is Kind.REVERSAL:
                self._reversals[transaction_id] = result
        return result

    def _unknown(self, transaction_id: str, reason: str) -> PaymentResult:
        log.warning("transaction %s: outcome unknown (%s)", transaction_id, reason)
        return PaymentResult(Outcome.UNKNOWN, transaction_id, reason=reason)

    def _forget(self, transaction_id: str, error: DriverError) -> None:
        self._note(error)
        with self._lock:
            self._issued.pop(transaction_id, None)
            if self._unresolved == transaction_id:
                self._unresolved = None

    def _note(self, error: DriverError) -> None:
        with self._lock:
            self._last_error = error

    def _require_resolved(self, *allowed: str) -> None:
        with self._lock:
            pending = self._unresolved
        if pending is not None and pending not in allowed:
            raise UnresolvedTransaction(
                f"transaction {pending}'s outcome is unknown: call status({pending}) first"
            )

    def _request(self, kind: TransactionType, amount: int, private: str) -> Request:
        return Request(
            pos_number=self._settings.pos_number,
            amount=amount,
            transaction_type=kind.value,
            currency=self._settings.currency,
            private=private,
        )


def _check_amount(amount_fen: int) -> None:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise ValueError("an amount is an integer number of fen")
    if not 1 <= amount_fen <= MAX_AMOUNT:
        raise ValueError(f"a card payment is 1 to {MAX_AMOUNT} fen, not {amount_fen}")
