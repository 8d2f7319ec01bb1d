"""The TVM's screens as a state machine: each passenger intent moves it, each state is a view.

home → destination → trains → class → passengers → confirm → pay → print →
done; home → scan → refund; home → scan → change (the new train) → class →
passengers (the holder, to prove it is theirs) → confirm → pay (when the new
ticket costs more) → print → done. Back goes one screen back, cancel goes home, and both let go
of a held order; so does the idle timeout. What selling needs (central, the
card terminal, the printer, the emergency seat block) is the ``Desk``'s
business: the flow only asks it and shows the answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from device.central_link import CentralRefused, CentralUnreachable
from device.gate.messages import Words
from device.tvm import words
from device.tvm.checkout import PurchaseFailed, SaleState
from device.tvm.id_numbers import normalised, problem
from device.tvm.stations import search
from device.tvm.view import (
    Banner,
    ClassChoice,
    Intent,
    IntentKind,
    PassengerLine,
    Screen,
    Station,
    TicketLine,
    TrainChoice,
    TvmView,
)
from drivers.errors import DriverError
from protocol.token import TicketClaims

log = logging.getLogger(__name__)
MAX_PASSENGERS = 5
DAY_STEPS = {"earlier": -1, "later": 1}  # the change screen's day buttons
FAILURE_WORDS = {
    SaleState.DECLINED: words.DECLINED,
    SaleState.UNRESOLVED: words.UNRESOLVED,
    SaleState.REVERSED: words.REVERSED,
    SaleState.NEEDS_STAFF: words.NEEDS_STAFF,
    SaleState.CANCELLED: words.NOT_CHANGED,  # a change central refused before any charge
}


@dataclass(frozen=True)
class Held:
    """Seats held for the passengers: the tickets to confirm and their total."""

    tickets: tuple[TicketLine, ...]
    total_fen: int  # what the card pays
    needs_card_station_confirm: bool
    fee_fen: int = 0  # a change to a cheaper ticket: the fee kept on the difference
    refund_fen: int = 0  # ... and what goes back


class HolderMismatch(ValueError):
    """The name or ID number typed is not the scanned ticket's passenger's."""


@dataclass(frozen=True)
class Scanned:
    """A ticket shown to the scanner for a refund or a change, with what a refund would do."""

    ticket_id: str
    line: TicketLine
    fee_fen: int
    refund_fen: int
    paid_by_card: bool
    holder_id_masked: str = ""
    claims: TicketClaims | None = None  # what its QR code says (holder hashes for a change)


class Desk(Protocol):
    """What the flow asks of the machine: trains, holds, payment and printing, refunds."""

    station: Station

    def closed_because(self) -> Words | None: ...  # why the TVM cannot sell now, if it cannot

    def banner(self) -> Banner: ...

    async def destinations(self) -> list[Station]: ...

    async def trains(self, destination: Station) -> list[TrainChoice]: ...

    async def hold(
        self,
        sale_id: str,
        train: TrainChoice,
        seat_class: ClassChoice,
        destination: Station,
        passengers: list[tuple[str, str]],
    ) -> Held: ...

    async def pay(self, sale_id: str, confirmed: bool) -> tuple[TicketLine, ...]: ...

    async def print_tickets(self, sale_id: str) -> None: ...

    async def cancel(self, sale_id: str, why: str) -> None: ...

    async def scanned(self, text: str) -> Scanned: ...

    async def refund(self, sale_id: str, ticket: Scanned) -> int: ...

    def today(self) -> dt.date: ...

    async def change_trains(self, ticket: Scanned, day: dt.date) -> list[TrainChoice]: ...

    async def quote_change(
        self,
        sale_id: str,
        ticket: Scanned,
        train: TrainChoice,
        seat_class: ClassChoice,
        holder: tuple[str, str],
    ) -> Held: ...  # journaled: ``pay`` then charges the difference and changes the ticket


@dataclass
class Order:
    """The purchase being put together (ID numbers stay in memory only)."""

    sale_id: str = field(default_factory=lambda: new_sale_id())
    query: str = ""
    destinations: tuple[Station, ...] = ()
    destination: Station | None = None
    trains: tuple[TrainChoice, ...] = ()
    train: TrainChoice | None = None
    seat_class: ClassChoice | None = None
    passengers: list[tuple[str, str]] = field(default_factory=list)
    held: Held | None = None
    printed: tuple[TicketLine, ...] = ()
    scanned: Scanned | None = None
    day: dt.date | None = None  # a change: the day whose trains are listed
    purpose: str = "purchase"  # purchase | refund | change


class KioskFlow:
    """The screens and what moves between them."""

    def __init__(self, desk: Desk, language: str = "zh") -> None:
        self.desk = desk
        self.language = language
        self.screen = Screen.HOME
        self.order = Order()
        self.message: Words | None = None
        self.busy = False
        self._all_destinations: list[Station] = []
        self.notify: Callable[[], None] = lambda: None  # a screen changed mid-intent

    # --- intents -----------------------------------------------------------------

    async def handle(self, intent: Intent) -> None:
        """Apply one passenger intent (unknown or out-of-place ones change nothing)."""
        if intent.kind is IntentKind.LANGUAGE:
            self.language = "en" if self.language == "zh" else "zh"
        elif intent.kind is IntentKind.CANCEL:
            await self.go_home()
        elif intent.kind is IntentKind.BACK:
            await self._back()
        elif intent.kind is not IntentKind.TOUCH:
            await self._on_screen(intent)

    async def go_home(self, message: Words | None = None) -> None:
        """Back to the start; a held order is let go."""
        await self._release("back home")
        self.order = Order()
        self.screen, self.message = Screen.HOME, message

    async def ticket_scanned(self, text: str) -> None:
        """A QR code at the scanner: used on the scan screen (refund, change)."""
        if self.screen is not Screen.SCAN:
            return
        try:
            self.order.scanned = await self.desk.scanned(text)
        except (CentralRefused, ValueError):
            self.message = words.NOT_A_TICKET
            return
        except CentralUnreachable:
            self._show(Screen.MESSAGE, words.CENTRAL_DOWN)
            return
        if self.order.purpose == "change":
            claims = self.order.scanned.claims
            day = claims.service_date if claims else self.desk.today()
            await self._load_change_trains(self.order.scanned, max(day, self.desk.today()))
            return
        self.screen, self.message = Screen.REFUND, self._refund_words()

    async def _load_change_trains(self, ticket: Scanned, day: dt.date) -> None:
        self.busy = True
        try:
            trains = await self.desk.change_trains(ticket, day)
        except CentralUnreachable:
            self._show(Screen.MESSAGE, words.CENTRAL_DOWN)
            return
        finally:
            self.busy = False
        self.order.destination = ticket.line.to_station
        self.order.trains, self.order.day = tuple(trains), day
        self._show(Screen.CHANGE, words.change_day(day) if trains else words.no_trains_on(day))

    async def _change(self, intent: Intent) -> None:
        """A train to change to, or another day's trains."""
        step = DAY_STEPS.get(_chosen(intent, "day:") or "")
        order = self.order
        if step is None:
            await self._trains(intent)
        elif order.scanned is not None and order.day is not None:
            day = order.day + dt.timedelta(days=step)
            if day >= self.desk.today():
                await self._load_change_trains(order.scanned, day)

    async def _on_screen(self, intent: Intent) -> None:
        handler = {
            Screen.HOME: self._home,
            Screen.DESTINATION: self._destination,
            Screen.TRAINS: self._trains,
            Screen.CHANGE: self._change,
            Screen.CLASS: self._class,
            Screen.PASSENGERS: self._passengers,
            Screen.CONFIRM: self._confirm,
            Screen.DONE: self._done,
            Screen.REFUND: self._refund,
            Screen.MESSAGE: self._done,
        }.get(self.screen)
        if handler is not None:
            await handler(intent)

    async def _home(self, intent: Intent) -> None:
        if intent.kind is not IntentKind.START:
            return
        closed = self.desk.closed_because()
        if closed is not None and intent.value != "refund":
            self._show(Screen.CLOSED, closed)
            return
        self.order = Order(purpose=intent.value)
        if intent.value in ("refund", "change"):
            self._show(Screen.SCAN, words.SCAN_TICKET)
            return
        await self._load_destinations()

    async def _load_destinations(self) -> None:
        try:
            self._all_destinations = await self.desk.destinations()
        except CentralUnreachable:
            self._show(Screen.CLOSED, words.CENTRAL_DOWN)
            return
        self.order.destinations = tuple(self._all_destinations)
        self._show(Screen.DESTINATION, words.CHOOSE_DESTINATION)

    async def _destination(self, intent: Intent) -> None:
        if intent.kind is IntentKind.SEARCH:
            self.order.query = intent.value
            self.order.destinations = tuple(search(self._all_destinations, intent.value))
            return
        code = _chosen(intent, "dest:")
        found = [s for s in self.order.destinations if s.code == code]
        if not found:
            return
        self.order.destination = found[0]
        try:
            trains = await self.desk.trains(found[0])
        except CentralUnreachable:
            self._show(Screen.CLOSED, words.CENTRAL_DOWN)
            return
        self.order.trains = tuple(trains)
        self._show(Screen.TRAINS, None if trains else words.NO_TRAINS)

    async def _trains(self, intent: Intent) -> None:
        number = _chosen(intent, "train:")
        found = [t for t in self.order.trains if t.train == number]
        if found:
            self.order.train = found[0]
            self._show(Screen.CLASS, None)

    async def _class(self, intent: Intent) -> None:
        code = _chosen(intent, "class:")
        train = self.order.train
        found = [c for c in (train.classes if train else ()) if c.code == code]
        if not found:
            return
        if found[0].seats + found[0].standing == 0:
            self.message = words.NO_SEATS
            return
        self.order.seat_class = found[0]
        changing = self.order.purpose == "change"
        self._show(Screen.PASSENGERS, words.ENTER_HOLDER if changing else words.ADD_PASSENGERS)

    async def _passengers(self, intent: Intent) -> None:
        if intent.kind is IntentKind.ADD_PASSENGER:
            self.message = self._add_passenger(intent.name, intent.id_number)
        elif intent.kind is IntentKind.REMOVE_PASSENGER and intent.value.isdigit():
            index = int(intent.value)
            if index < len(self.order.passengers):
                del self.order.passengers[index]
        elif intent.kind is IntentKind.CONFIRM and self.order.passengers:
            await self._hold()

    def _add_passenger(self, name: str, id_number: str) -> Words | None:
        if len(self.order.passengers) >= self._most_passengers():
            return words.ENTER_HOLDER if self.order.purpose == "change" else words.TOO_MANY
        if not name.strip() or problem(id_number) is not None:
            return words.BAD_ID
        number = normalised(id_number)
        if any(number == known for _, known in self.order.passengers):
            return words.SAME_ID
        self.order.passengers.append((name.strip(), number))
        return None

    def _most_passengers(self) -> int:
        return 1 if self.order.purpose == "change" else MAX_PASSENGERS

    async def _hold(self) -> None:
        order = self.order
        assert order.train and order.seat_class and order.destination
        # each hold is a sale of its own: one let go (back, a refusal) is journaled and final,
        # and its Idempotency-Keys at central would replay the old answer
        order.sale_id = new_sale_id()
        self.busy = True
        try:
            order.held = await self._held(order)
        except HolderMismatch:
            self.message = words.HOLDER_MISMATCH
            return
        except CentralRefused as exc:
            self.message = (
                words.NO_TICKETS_LEFT
                if "seat" in exc.code or exc.code == "sold_out"
                else words.TRY_AGAIN
            )
            return
        except CentralUnreachable:
            self._show(Screen.CLOSED, words.CENTRAL_DOWN)
            return
        finally:
            self.busy = False
        self._show(Screen.CONFIRM, self._confirm_words(order.held))

    async def _held(self, order: Order) -> Held:
        assert order.train and order.seat_class and order.destination
        if order.scanned is not None:  # a change: one passenger, the ticket's holder
            return await self.desk.quote_change(
                order.sale_id, order.scanned, order.train, order.seat_class, order.passengers[0]
            )
        return await self.desk.hold(
            order.sale_id, order.train, order.seat_class, order.destination, order.passengers
        )

    def _confirm_words(self, held: Held) -> Words | None:
        if held.needs_card_station_confirm:
            return words.CARD_STATION
        if held.refund_fen > 0:
            return self._refund_words()
        return words.PAY_DIFFERENCE if self.order.scanned and held.total_fen > 0 else None

    async def _confirm(self, intent: Intent) -> None:
        held = self.order.held
        if held is None:
            return
        if intent.kind is IntentKind.CONFIRM_CARD_STATION:
            self.order.held = replace(held, needs_card_station_confirm=False)
            self.message = None
            return
        if (
            intent.kind not in (IntentKind.CONFIRM, IntentKind.PAY)
            or held.needs_card_station_confirm
        ):
            return
        await self._pay(confirmed=True)

    async def _pay(self, confirmed: bool) -> None:
        self.busy = True
        self._show(Screen.PAY, words.FOLLOW_TERMINAL)
        try:
            self.order.printed = await self.desk.pay(self.order.sale_id, confirmed)
            self._show(Screen.PRINT, None)
            await self.desk.print_tickets(self.order.sale_id)
        except PurchaseFailed as exc:
            self.order.held = None  # the checkout let the hold go, or keeps it for recovery
            self._show(Screen.MESSAGE, FAILURE_WORDS.get(exc.state, words.TRY_AGAIN))
            return
        except (CentralUnreachable, CentralRefused) as exc:
            log.warning("purchase %s stopped: %s", self.order.sale_id, exc)
            self.order.held = None  # the journal holds it: recovery finishes the sale
            self._show(Screen.MESSAGE, words.UNRESOLVED)
            return
        except DriverError as exc:  # the printer failed: the tickets are issued and journaled
            log.warning("purchase %s: printing stopped: %s", self.order.sale_id, exc)
            self.order.held = None
            self._show(Screen.MESSAGE, words.PRINT_LATER)
            return
        finally:
            self.busy = False
        self.order.held = None
        changed = self.order.purpose == "change"
        self._show(Screen.DONE, words.CHANGED if changed else words.TAKE_TICKETS)

    async def _done(self, intent: Intent) -> None:
        if intent.kind is IntentKind.DONE:
            await self.go_home()

    async def _refund(self, intent: Intent) -> None:
        scanned = self.order.scanned
        if intent.kind is not IntentKind.CONFIRM or scanned is None:
            return
        self.busy = True
        try:
            await self.desk.refund(self.order.sale_id, scanned)
        except CentralRefused:
            self._show(Screen.MESSAGE, words.NOT_REFUNDABLE)
            return
        except CentralUnreachable:
            self._show(Screen.MESSAGE, words.CENTRAL_DOWN)
            return
        finally:
            self.busy = False
        self._show(Screen.DONE, words.REFUNDED)

    def _refund_words(self) -> Words:
        scanned = self.order.scanned
        return (
            words.REFUND_TO_CARD if scanned and scanned.paid_by_card else words.REFUND_CASH_WINDOW
        )

    async def _back(self) -> None:
        previous = {
            Screen.DESTINATION: Screen.HOME,
            Screen.TRAINS: Screen.DESTINATION,
            Screen.CLASS: Screen.CHANGE if self.order.purpose == "change" else Screen.TRAINS,
            Screen.CHANGE: Screen.SCAN,
            Screen.PASSENGERS: Screen.CLASS,
            Screen.CONFIRM: Screen.PASSENGERS,
            Screen.SCAN: Screen.HOME,
            Screen.REFUND: Screen.SCAN,
        }.get(self.screen)
        if previous is None or self.busy:
            return
        if self.screen is Screen.CONFIRM:
            await self._release("back from confirm")
        self._show(previous, None)

    async def _release(self, why: str) -> None:
        held = self.order.held
        self.order.held = None
        if held is not None:
            try:
                await self.desk.cancel(self.order.sale_id, why)
            except CentralUnreachable:
                log.info("hold of %s left to expire: central unreachable", self.order.sale_id)

    def _show(self, screen: Screen, message: Words | None) -> None:
        self.screen, self.message = screen, message
        self.notify()

    # --- the view ----------------------------------------------------------------

    def view(self, idle_seconds_left: float | None = None) -> TvmView:
        """What the screen shows now."""
        order = self.order
        held = order.held
        tickets = held.tickets if held else order.printed
        if order.scanned is not None and self._shows_scanned():
            tickets = (order.scanned.line,)
        fee, back = (held.fee_fen, held.refund_fen) if held else (0, 0)
        if order.scanned is not None and order.purpose == "refund":
            fee, back = order.scanned.fee_fen, order.scanned.refund_fen
        return TvmView(
            screen=self.screen,
            language=self.language,
            title=words.TITLES[self.screen],
            station=self.desk.station,
            banner=self.desk.banner(),
            message=self.message,
            query=order.query,
            destinations=order.destinations,
            destination=order.destination,
            trains=order.trains,
            day=order.day if self.screen is Screen.CHANGE else None,
            train=order.train,
            seat_class=order.seat_class,
            passengers=tuple(PassengerLine(n, _masked(i)) for n, i in order.passengers),
            max_passengers=self._most_passengers(),
            tickets=tickets,
            total_fen=held.total_fen if held else sum(t.price_fen for t in order.printed),
            fee_fen=fee,
            refund_fen=back,
            needs_card_station_confirm=bool(held and held.needs_card_station_confirm),
            busy=self.busy,
            idle_seconds_left=idle_seconds_left,
            targets=self._targets(),
        )

    def _shows_scanned(self) -> bool:
        if self.order.purpose == "refund":
            return self.screen in (Screen.REFUND, Screen.DONE)
        return self.screen is Screen.CHANGE

    def _targets(self) -> tuple[str, ...]:
        screen = self.screen
        common = ("language",) if screen is Screen.HOME else ("back", "cancel", "language")
        return () if self.busy else (*self._screen_targets(), *common)

    def _screen_targets(self) -> tuple[str, ...]:
        order, screen = self.order, self.screen
        if screen is Screen.DESTINATION:
            return (*(f"dest:{s.code}" for s in order.destinations), "search")
        if screen is Screen.TRAINS:
            return tuple(f"train:{t.train}" for t in order.trains)
        if screen is Screen.CHANGE:
            earlier = order.day is not None and order.day > self.desk.today()
            days = ("day:later",) + ("day:earlier",) * earlier  # the footer fills from the right
            return (*(f"train:{t.train}" for t in order.trains), *days)
        if screen is Screen.CLASS:
            return tuple(f"class:{c.code}" for c in (order.train.classes if order.train else ()))
        if screen is Screen.PASSENGERS:
            removable = (f"passenger:remove:{n}" for n in range(len(order.passengers)))
            return ("passenger:add", "confirm", *removable)
        if screen is Screen.CONFIRM:
            return self._confirm_targets()
        return {
            Screen.HOME: ("start:purchase", "start:refund", "start:change"),
            Screen.REFUND: ("confirm",),
            Screen.DONE: ("done",),
            Screen.MESSAGE: ("done",),
        }.get(screen, ())

    def _confirm_targets(self) -> tuple[str, ...]:
        held = self.order.held
        if held is not None and held.needs_card_station_confirm:
            return ("confirm:card_station",)
        nothing_to_pay = held is not None and held.total_fen == 0
        return ("confirm",) if nothing_to_pay else ("pay:card",)


def new_sale_id() -> str:
    """A sale's id in the journal, and the stem of its Idempotency-Keys at central."""
    return str(uuid.uuid4())


def _chosen(intent: Intent, prefix: str) -> str | None:
    if intent.kind is IntentKind.CHOOSE and intent.value.startswith(prefix):
        return intent.value[len(prefix) :]
    return None


def _masked(id_number: str) -> str:
    return id_number[:4] + "*" * max(0, len(id_number) - 8) + id_number[-4:]
