"""Holding, charging, issuing and printing a purchase, each step journaled before it is taken.

The order of a card purchase: hold the seats (central), charge the card (the
bank POS terminal), have central issue the tickets, print them. Every step
is written to the sales journal durably before it is asked for, with the
ids that make asking again safe (the sale's Idempotency-Keys at central, the
transaction id at the terminal). So after a crash at any instant ``recover``
finishes every open sale from the journal alone: a hold nobody paid for is
let go, a charge whose answer was lost is settled by asking the terminal for
its status (never by charging again), an approved charge is issued and
printed, or reversed when it can no longer be issued. Never money without a
ticket, never a ticket twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from device.central_link import CentralRefused, CentralUnreachable
from device.events import EventLog
from device.store_thread import StoreThread
from device.tvm.central import TvmLink
from drivers.errors import DriverError
from drivers.pos.results import Outcome, PaymentResult, new_transaction_id
from drivers.pos.terminal import BankTerminal, ReversalRefused
from drivers.printer.printer import TicketPrinter
from drivers.printer.ticket import PrintedTicket, StationName
from offline_store.sales import Sale
from protocol.messages import (
    ChangeRequest,
    JourneySpec,
    OrderRequest,
    OrderView,
    PaymentRequest,
    TicketView,
)

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
# central answers a pay that can no longer be made with these: reverse the charge
UNPAYABLE = frozenset({"order_expired", "order_not_held", "unknown_order", "amount_mismatch"})


class SaleState(StrEnum):
    """Where a purchase stands in the journal."""

    HOLDING = "holding"  # the hold is being asked for
    HELD = "held"
    CHARGING = "charging"  # the terminal was asked (its transaction id is journaled)
    UNRESOLVED = "unresolved"  # the terminal's answer was lost: ask its status first
    CHARGED = "charged"
    ISSUED = "issued"  # central issued the tickets (tokens journaled)
    REVERSING = "reversing"
    DONE = "done"  # every ticket printed
    DECLINED = "declined"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"  # a hold asked for but never learnt: it expires by itself
    REVERSED = "reversed"
    NEEDS_STAFF = "needs_staff"  # money taken, no ticket, no reversal: a technician settles it


FINAL = frozenset(
    {
        SaleState.DONE,
        SaleState.DECLINED,
        SaleState.CANCELLED,
        SaleState.ABANDONED,
        SaleState.REVERSED,
    }
)


class PurchaseFailed(Exception):
    """The purchase stopped; ``state`` says where the money and the seats are."""

    def __init__(self, state: SaleState, why: str) -> None:
        super().__init__(why)
        self.state = state
        self.why = why


@dataclass(frozen=True)
class PrintFacts:
    """What the printer needs that central's answer lacks (kept in the journal)."""

    from_station: StationName
    to_station: StationName
    departs_at: dt.datetime
    id_masked: list[str]


class Checkout:
    """Runs purchases through central, the bank terminal and the printer, journal first."""

    def __init__(
        self,
        store: StoreThread,
        link: TvmLink,
        terminal: BankTerminal,
        printer: TicketPrinter,
        events: EventLog,
        clock: Clock,
        acquirer: str,
    ) -> None:
        self.store = store
        self.link = link
        self.terminal = terminal
        self.printer = printer
        self.events = events
        self.clock = clock
        self.acquirer = acquirer

    # --- the steps of a purchase -------------------------------------------------

    async def hold(
        self, sale_id: str, order: OrderRequest, facts: PrintFacts, total_hint: int
    ) -> OrderView:
        """Journal the purchase, then hold its seats at central."""
        detail = _detail(order, facts)
        await self._journal(
            lambda s: s.sales.begin(sale_id, "purchase", SaleState.HOLDING, detail, self.clock())
        )
        try:
            held = await self.link.hold(order, key=f"{sale_id}:hold")
        except (CentralUnreachable, CentralRefused) as exc:
            await self._step(sale_id, SaleState.ABANDONED, False, note={"why": str(exc)})
            raise
        await self._step(
            sale_id, SaleState.HELD, True, order_id=held.order_id, amount_fen=held.total_fen
        )
        self.events.emit(
            "order_held", sale_id=sale_id, order_id=held.order_id, total_fen=held.total_fen
        )
        return held

    async def charge(self, sale_id: str) -> PaymentResult:
        """Charge the card for a held order: approved, declined (hold let go) or raise."""
        sale = await self._sale(sale_id)
        txn = new_transaction_id()
        await self._step(sale_id, SaleState.CHARGING, True, transaction_id=txn)
        self.events.emit(
            "payment_started", sale_id=sale_id, amount_fen=sale.amount_fen, transaction_id=txn
        )
        try:
            result = await self.terminal.sale(sale.amount_fen, txn)
        except DriverError as exc:  # the terminal certainly did not take it
            await self._declined(sale_id, f"terminal: {exc.message}")
            raise PurchaseFailed(SaleState.DECLINED, "the card terminal is not answering") from exc
        if result.outcome is Outcome.UNKNOWN:  # in doubt: ask before anything else, never resell
            result = await self._asked(txn, result)
        return await self._settle(sale_id, result)

    async def _asked(self, transaction_id: str, doubt: PaymentResult) -> PaymentResult:
        """The terminal's word on a transaction whose answer was lost (still unknown if none)."""
        try:
            return await self.terminal.status(transaction_id)
        except DriverError as exc:
            log.warning("status of %s: %s; the sale stays in doubt", transaction_id, exc)
            return doubt

    async def issue(self, sale_id: str, confirm_card_station: bool = False) -> OrderView:
        """Have central issue a charged order's tickets (a retry replays the first answer)."""
        sale = await self._sale(sale_id)
        payment = self._payment_request(sale, confirm_card_station)
        assert sale.order_id is not None
        try:
            issued = await self.link.pay(sale.order_id, payment, key=f"{sale_id}:pay")
        except CentralRefused as exc:
            if exc.code in UNPAYABLE or exc.code == "card_station_not_accepted":
                await self.reverse(sale_id, f"central refused to issue: {exc.code}")
                raise PurchaseFailed(SaleState.REVERSED, exc.message) from exc
            raise
        tickets = [t.model_dump(mode="json", by_alias=True) for t in issued.tickets]
        await self._step(sale_id, SaleState.ISSUED, True, tickets=tickets)
        self.events.emit(
            "tickets_issued", sale_id=sale_id, tickets=[t.ticket_id for t in issued.tickets]
        )
        return issued

    async def print_tickets(self, sale_id: str) -> None:
        """Print every issued ticket not printed yet; the sale is done after the last."""
        sale = await self._sale(sale_id)
        for index, ticket in enumerate(sale.tickets or []):
            if index < sale.printed:
                continue
            await self.printer.print_ticket(self._printed(sale, index, ticket))
            await self._step(sale_id, SaleState.ISSUED, True, printed=index + 1)
            self.events.emit("ticket_printed", sale_id=sale_id, ticket_id=ticket["ticket_id"])
        await self._step(sale_id, SaleState.DONE, False)

    # --- a change: pay the difference, then central swaps the ticket -----------------

    async def begin_change(
        self, sale_id: str, ticket_id: str, journey: JourneySpec, facts: PrintFacts, due_fen: int
    ) -> None:
        """Journal a change of ``ticket_id`` to ``journey`` before anything is asked for.

        With something to pay (``due_fen``) it waits in HELD for the card; with
        nothing it is CHARGED at once, ready for central.
        """
        detail = {**_detail_of(journey, facts, passengers=1), "ticket_id": ticket_id}
        state = SaleState.HELD if due_fen > 0 else SaleState.CHARGED
        await self._journal(lambda s: s.sales.begin(sale_id, "change", state, detail, self.clock()))
        await self._step(sale_id, state, True, amount_fen=due_fen)

    async def change(self, sale_id: str, request: ChangeRequest) -> TicketView:
        """Have central change the ticket of a journaled (and paid) change."""
        sale = await self._sale(sale_id)
        old = str(sale.detail["ticket_id"])
        try:
            answer = await self.link.change(old, request, key=f"{sale_id}:change")
        except CentralRefused as exc:
            await self._undo_change(sale, f"central refused the change: {exc.code}")
            now = await self._sale(sale_id)
            raise PurchaseFailed(SaleState(now.state), exc.message) from exc
        await self._changed(sale_id, old, answer.ticket)
        return answer.ticket

    async def _changed(self, sale_id: str, old: str, new: TicketView) -> None:
        ticket = new.model_dump(mode="json", by_alias=True)
        await self._step(sale_id, SaleState.ISSUED, True, tickets=[ticket])
        self.events.emit(
            "ticket_changed", sale_id=sale_id, old_ticket_id=old, ticket_id=new.ticket_id
        )

    async def _undo_change(self, sale: Sale, why: str) -> None:
        """No change was made: give back what was paid for it, if anything."""
        if sale.transaction_id is not None:
            await self.reverse(sale.sale_id, why)
        else:
            await self._step(sale.sale_id, SaleState.CANCELLED, False, note={"why": why})

    async def _finish_change(self, sale_id: str) -> None:
        """After a restart: central's record says whether the change was made.

        The holder's ID number (which central asks for) is gone with the
        crash, so a change not made yet is undone, never made blind; one made
        is printed.
        """
        sale = await self._sale(sale_id)
        old = await self.link.ticket(str(sale.detail["ticket_id"]))
        new = await self.link.ticket(old.replaced_by) if old.replaced_by else None
        if new is None or not _is_journey(new, sale.detail):
            await self._undo_change(sale, "restart before the change was made")
            return
        await self._changed(sale_id, old.ticket_id, new)
        await self.print_tickets(sale_id)

    async def cancel(self, sale_id: str, why: str) -> None:
        """Let a held order go (the passenger left, or paying failed)."""
        sale = await self._sale(sale_id)
        if sale.order_id is not None:
            try:
                await self.link.cancel(sale.order_id, key=f"{sale_id}:cancel")
            except CentralRefused as exc:  # expired or gone already: nothing is held
                log.info("cancel of %s: %s", sale.order_id, exc)
            except CentralUnreachable:
                await self._step(sale_id, SaleState.ABANDONED, False, note={"why": why})
                return
        await self._step(sale_id, SaleState.CANCELLED, False, note={"why": why})
        self.events.emit("order_cancelled", sale_id=sale_id, why=why)

    async def reverse(self, sale_id: str, why: str) -> None:
        """Give an approved charge back (it never became a ticket), then let the hold go."""
        sale = await self._sale(sale_id)
        reversal = sale.reversal_id or new_transaction_id()
        await self._step(
            sale_id, SaleState.REVERSING, True, reversal_id=reversal, note={"why": why}
        )
        assert sale.transaction_id is not None
        try:
            result = await self.terminal.reverse_last(sale.transaction_id, reversal)
        except ReversalRefused as exc:
            await self._step(sale_id, SaleState.NEEDS_STAFF, True, note={"why": str(exc)})
            self.events.emit(
                "needs_staff", sale_id=sale_id, why="charge not reversible at the terminal"
            )
            return
        if result.outcome is not Outcome.APPROVED:
            return  # stays reversing: recover() asks again with the same ids
        await self._step(sale_id, SaleState.REVERSED, True, note={"why": why})
        self.events.emit("payment_reversed", sale_id=sale_id, amount_fen=sale.amount_fen)
        await self.cancel(sale_id, why)
        await self._step(sale_id, SaleState.REVERSED, False)

    # --- after a crash ---------------------------------------------------------------

    async def has_open_sales(self) -> bool:
        """Whether the journal holds a sale not finished yet."""
        return bool(await self.store.run(lambda s: s.sales.open_sales()))

    async def recover(self) -> list[str]:
        """Finish every open sale from the journal; what was done, one line each."""
        done = []
        for sale in await self.store.run(lambda s: s.sales.open_sales()):
            try:
                await self._resume(sale)
            except (CentralUnreachable, DriverError, PurchaseFailed) as exc:
                log.warning("sale %s stays open after recovery: %s", sale.sale_id, exc)
            now = await self._sale(sale.sale_id)
            done.append(f"{sale.sale_id}: {sale.state} -> {now.state}")
            self.events.emit("sale_recovered", sale_id=sale.sale_id, was=sale.state, now=now.state)
        return done

    async def _resume(self, sale: Sale) -> None:
        state = SaleState(sale.state)
        if state is SaleState.HOLDING:
            await self._step(sale.sale_id, SaleState.ABANDONED, False, note={"why": "restart"})
        elif state is SaleState.HELD and sale.kind == "offline":
            await self._step(sale.sale_id, SaleState.CANCELLED, False, note={"why": "restart"})
        elif state is SaleState.HELD:
            await self.cancel(sale.sale_id, "restart before payment")
        elif state in (SaleState.CHARGING, SaleState.UNRESOLVED):
            assert sale.transaction_id is not None
            result = await self.terminal.status(sale.transaction_id)
            if await self._settle(sale.sale_id, result, recovering=True):
                await self._finish_charged(sale.sale_id)
        elif state is SaleState.CHARGED:
            await self._finish_charged(sale.sale_id)
        elif state is SaleState.ISSUED:
            await self.print_tickets(sale.sale_id)
        elif state is SaleState.REVERSING:
            await self.reverse(sale.sale_id, "restart during a reversal")
        elif state in (SaleState.DECLINED, SaleState.REVERSED):  # the hold was still to let go
            await self.cancel(sale.sale_id, f"restart after {state.value}")
            await self._step(sale.sale_id, state, False)

    async def _finish_charged(self, sale_id: str) -> None:
        sale = await self._sale(sale_id)
        if sale.kind == "change":
            await self._finish_change(sale_id)
            return
        if sale.kind == "offline":  # a block ticket needs the passenger's data, gone with the crash
            await self.reverse(sale_id, "offline sale interrupted before its ticket was made")
            return
        await self.issue(sale_id)
        await self.print_tickets(sale_id)

    # --- helpers ---------------------------------------------------------------------

    async def _settle(
        self, sale_id: str, result: PaymentResult, recovering: bool = False
    ) -> PaymentResult:
        """Journal what the terminal said; raise when there is no approval."""
        if result.outcome is Outcome.APPROVED:
            payment = _payment(result, self.acquirer)
            await self._step(sale_id, SaleState.CHARGED, True, payment=payment)
            self.events.emit(
                "payment_approved",
                sale_id=sale_id,
                card=result.card_masked,
                acquirer=payment["acquirer"],
            )
            return result
        if result.outcome in (Outcome.DECLINED, Outcome.NOT_FOUND):
            await self._declined(sale_id, result.reason or result.outcome.value)
            raise PurchaseFailed(SaleState.DECLINED, "the card was declined")
        await self._step(sale_id, SaleState.UNRESOLVED, True, note={"why": result.reason})
        self.events.emit(
            "payment_unresolved", sale_id=sale_id, transaction_id=result.transaction_id
        )
        raise PurchaseFailed(SaleState.UNRESOLVED, "the card terminal's answer was lost")

    async def _declined(self, sale_id: str, why: str) -> None:
        await self._step(sale_id, SaleState.DECLINED, True, note={"why": why})
        self.events.emit("payment_declined", sale_id=sale_id)
        await self.cancel(sale_id, "card declined")
        await self._step(sale_id, SaleState.DECLINED, False)

    def _payment_request(self, sale: Sale, confirm_card_station: bool) -> PaymentRequest:
        paid: Any = sale.payment or {}
        return PaymentRequest(
            method="card",
            amount_fen=sale.amount_fen,
            reference=str(paid.get("reference") or sale.transaction_id),
            acquirer=str(paid.get("acquirer") or self.acquirer),
            card_masked=paid.get("card_masked"),
            confirm_card_station=confirm_card_station or bool(sale.detail.get("confirmed")),
        )

    def _printed(self, sale: Sale, index: int, ticket: dict[str, Any]) -> PrintedTicket:
        detail: Any = sale.detail  # as _detail wrote it
        paid: Any = sale.payment or {}
        ids = list(detail.get("id_masked", []))
        names = detail["stations"]
        return PrintedTicket(
            ticket_id=ticket["ticket_id"],
            train=ticket["train"],
            service_date=dt.date.fromisoformat(ticket["date"]),
            departure=dt.datetime.fromisoformat(str(detail["departs_at"])),
            from_station=StationName(*names[0]),
            to_station=StationName(*names[1]),
            seat_class=ticket["class"],
            coach=ticket.get("coach"),
            seat=ticket.get("seat"),
            price_fen=ticket["price_fen"],
            passenger_name=ticket["passenger"],
            id_number=ids[index] if index < len(ids) else "",
            token=ticket["token"],
            acquirer=paid.get("acquirer"),
        )

    async def _sale(self, sale_id: str) -> Sale:
        sale = await self.store.run(lambda s: s.sales.get(sale_id))
        if sale is None:
            raise ValueError(f"no sale {sale_id} in the journal")
        return sale

    async def _step(self, sale_id: str, state: SaleState, is_open: bool, **changes: Any) -> Sale:
        at = self.clock()
        return await self.store.run(
            lambda s: s.sales.step(sale_id, state, at, is_open=is_open, **changes)
        )

    async def _journal(self, call: Callable[[Any], Any]) -> Any:
        return await self.store.run(call)


def _detail(order: OrderRequest, facts: PrintFacts) -> dict[str, object]:
    """What the journal keeps of a purchase: the journey, names for the printer, masked IDs."""
    return _detail_of(order, facts, len(order.passengers))


def _detail_of(journey: JourneySpec, facts: PrintFacts, passengers: int) -> dict[str, object]:
    return {
        "train": journey.train,
        "date": journey.date.isoformat(),
        "from": journey.from_station,
        "to": journey.to_station,
        "class": journey.seat_class,
        "passengers": passengers,
        "id_masked": facts.id_masked,
        "stations": [
            [facts.from_station.chinese, facts.from_station.english],
            [facts.to_station.chinese, facts.to_station.english],
        ],
        "departs_at": facts.departs_at.isoformat(),
    }


def _is_journey(ticket: TicketView, detail: Any) -> bool:
    """Whether ``ticket`` is the journey a journaled change asked for."""
    asked = (detail["train"], detail["date"], detail["from"], detail["to"], detail["class"])
    found = (ticket.train, ticket.date.isoformat(), ticket.from_station, ticket.to_station)
    return (*found, ticket.seat_class) == asked


def _payment(result: PaymentResult, acquirer: str) -> dict[str, object]:
    """What the journal keeps of an approval (the card masked, as the terminal gave it)."""
    return {
        "method": "card",
        "transaction_id": result.transaction_id,
        "reference": result.terminal_reference
        or result.authorisation_code
        or result.transaction_id,
        "acquirer": result.acquirer or acquirer,
        "card_masked": result.card_masked,
        "authorisation": result.authorisation_code,
    }
