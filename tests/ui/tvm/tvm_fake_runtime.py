"""A test double of the TVM runtime: a small state machine over the kiosk's contract.

Not the real runtime (that is ``device/tvm``): just enough of the purchase,
refund and idle behaviour to drive the kiosk and the journey player through
the same ``TvmView`` / ``Intent`` contract. It publishes a view after every
change, records every intent it is handed, "prints" a QR text per ticket and
takes scanned QR texts through ``scan`` (the QR scanner's way in). Its
stations, trains and fares are the tests' sample data.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tvm_kiosk_samples import HERE, MESSAGES, STATIONS, TITLES, TRAINS

from device.gate.messages import Words
from device.tvm.view import (
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

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
BAD_ID = Words("身份证号码有误，请核对最后一位", "The ID number is wrong: check its last character")
NO_NAME = Words("请输入乘客姓名", "Please enter the passenger's name")
DECLINED = Words("银行卡支付未成功，未扣款", "The card was declined: nothing was charged")
NOT_A_TICKET = Words("无法识别的车票，请重新扫描", "Not a ticket we know: scan it again")
REFUNDED = Words("退票成功，退款将退回原银行卡", "Refunded: the money goes back to your card")
BACK_TO_CARD = Words("退回原银行卡", "Back to the card it was paid with")
REFUND_FEE_FEN = 700


def with_check_digit(first_17: str) -> str:
    """An 18-character PRC ID number: ``first_17`` and its ISO 7064 MOD 11-2 check character."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, WEIGHTS, strict=True))
    return first_17 + CHECK[total % 11]


def is_valid_id(number: str) -> bool:
    """True for 17 digits followed by their check character."""
    return len(number) == 18 and number[:17].isdigit() and with_check_digit(number[:17]) == number


@dataclass
class Order:
    """What the passenger has chosen so far."""

    destination: Station | None = None
    train: TrainChoice | None = None
    seat_class: ClassChoice | None = None
    passengers: list[tuple[str, str]] = field(default_factory=list)
    card_station_confirmed: bool = False


class FakeTvmRuntime:
    """A TVM runtime double: publishes views, handles intents, prints and scans QR texts."""

    def __init__(
        self,
        *,
        idle_s: float = 60.0,
        no_card_refund: frozenset[str] = frozenset({"AOH"}),
        decline: bool = False,
        pay_s: float = 0.02,
    ) -> None:
        self.idle_s = idle_s
        self.no_card_refund = no_card_refund
        self.decline = decline
        self.pay_s = pay_s
        self.intents: list[Intent] = []
        self.views: list[TvmView] = []
        self.printed_qr: list[str] = []
        self.refunded: list[str] = []
        self._issued: dict[str, TicketLine] = {}
        self._draw: list[Callable[[TvmView], None]] = []
        self._screen = Screen.HOME
        self._language = "zh"
        self._query = ""
        self._message: Words | None = None
        self._busy = False
        self._order = Order()
        self._scanned: str | None = None
        self._idle: asyncio.TimerHandle | None = None

    def subscribe(self, draw: Callable[[TvmView], None]) -> None:
        self._draw.append(draw)

    def start(self) -> None:
        self._publish()

    def printed(self) -> list[str]:
        return list(self.printed_qr)

    async def scan(self, qr_text: str) -> None:
        """The QR scanner read ``qr_text``."""
        if self._screen is not Screen.SCAN:
            return
        if qr_text in self._issued and qr_text not in self.refunded:
            self._scanned = qr_text
            self._go(Screen.REFUND)
        else:
            self._go(Screen.MESSAGE, NOT_A_TICKET)

    async def handle(self, intent: Intent) -> None:
        self.intents.append(intent)
        self._restart_idle()
        if intent.kind is IntentKind.LANGUAGE:
            self._language = "en" if self._language == "zh" else "zh"
            self._publish()
        elif intent.kind is IntentKind.CANCEL:
            self._home()
        elif intent.kind is IntentKind.TOUCH:
            self._publish()
        else:
            await HANDLERS[self._screen](self, intent)

    # -- the screens -------------------------------------------------------------------------

    async def _on_home(self, intent: Intent) -> None:
        if intent.kind is IntentKind.START and intent.value == "purchase":
            self._order, self._query = Order(), ""
            self._go(Screen.DESTINATION)
        elif intent.kind is IntentKind.START and intent.value == "refund":
            self._go(Screen.SCAN)

    async def _on_destination(self, intent: Intent) -> None:
        if intent.kind is IntentKind.SEARCH:
            self._query = intent.value
            self._publish()
        elif intent.kind is IntentKind.CHOOSE:
            code = intent.value.removeprefix("dest:")
            self._order.destination = next(s for s in STATIONS if s.code == code)
            self._go(Screen.TRAINS)
        elif intent.kind is IntentKind.BACK:
            self._home()

    async def _on_trains(self, intent: Intent) -> None:
        if intent.kind is IntentKind.CHOOSE:
            number = intent.value.removeprefix("train:")
            self._order.train = next(t for t in TRAINS if t.train == number)
            self._go(Screen.CLASS)
        elif intent.kind is IntentKind.BACK:
            self._go(Screen.DESTINATION)

    async def _on_class(self, intent: Intent) -> None:
        assert self._order.train is not None
        if intent.kind is IntentKind.CHOOSE:
            code = intent.value.removeprefix("class:")
            self._order.seat_class = next(c for c in self._order.train.classes if c.code == code)
            self._go(Screen.PASSENGERS)
        elif intent.kind is IntentKind.BACK:
            self._go(Screen.TRAINS)

    async def _on_passengers(self, intent: Intent) -> None:
        if intent.kind is IntentKind.ADD_PASSENGER:
            self._add(intent.name, intent.id_number)
        elif intent.kind is IntentKind.REMOVE_PASSENGER:
            del self._order.passengers[int(intent.value)]
            self._go(Screen.PASSENGERS)
        elif intent.kind is IntentKind.CONFIRM and self._order.passengers:
            self._go(Screen.CONFIRM)
        elif intent.kind is IntentKind.BACK:
            self._go(Screen.CLASS)

    def _add(self, name: str, id_number: str) -> None:
        if not name:
            self._go(Screen.PASSENGERS, NO_NAME)
        elif not is_valid_id(id_number):
            self._go(Screen.PASSENGERS, BAD_ID)
        else:
            self._order.passengers.append((name, id_number))
            self._go(Screen.PASSENGERS)

    async def _on_confirm(self, intent: Intent) -> None:
        if intent.kind is IntentKind.CONFIRM_CARD_STATION:
            self._order.card_station_confirmed = True
            self._publish()
        elif intent.kind is IntentKind.CONFIRM and not self._needs_card_station_confirm():
            self._go(Screen.PAY)
        elif intent.kind is IntentKind.BACK:
            self._go(Screen.PASSENGERS)

    async def _on_pay(self, intent: Intent) -> None:
        if intent.kind is not IntentKind.PAY:
            return
        self._busy = True
        self._publish()
        await asyncio.sleep(self.pay_s)  # the POS terminal
        if self.decline:
            self._busy = False
            self._go(Screen.MESSAGE, DECLINED)
            return
        self._go(Screen.PRINT)
        await asyncio.sleep(self.pay_s)  # the printer
        for ticket in self._tickets():
            qr = f"FAKE-TICKET-{len(self._issued) + 1}"
            self._issued[qr] = ticket
            self.printed_qr.append(qr)
        self._busy = False
        self._go(Screen.DONE)

    async def _on_done(self, intent: Intent) -> None:
        if intent.kind is IntentKind.DONE:
            self._home()

    async def _on_scan(self, intent: Intent) -> None:
        if intent.kind is IntentKind.BACK:
            self._home()

    async def _on_refund(self, intent: Intent) -> None:
        if intent.kind is IntentKind.CONFIRM and self._scanned is not None:
            self.refunded.append(self._scanned)
            self._go(Screen.MESSAGE, REFUNDED)
        elif intent.kind is IntentKind.BACK:
            self._go(Screen.SCAN)

    async def _on_message(self, intent: Intent) -> None:
        if intent.kind is IntentKind.DONE:
            self._home()

    # -- views -------------------------------------------------------------------------------

    def _go(self, screen: Screen, message: Words | None = None) -> None:
        self._screen, self._message = screen, message
        self._publish()

    def _home(self) -> None:
        self._order, self._scanned, self._busy = Order(), None, False
        self._go(Screen.HOME)

    def _publish(self) -> None:
        view = self._view()
        self.views.append(view)
        for draw in self._draw:
            draw(view)

    def _view(self) -> TvmView:
        screen, order = self._screen, self._order
        view = TvmView(
            screen=screen,
            language=self._language,
            title=TITLES[screen],
            station=HERE,
            message=self._message or MESSAGES[screen],
            busy=self._busy or screen is Screen.PRINT,
            idle_seconds_left=None if screen is Screen.HOME else self.idle_s,
            targets=self._targets(),
        )
        return replace(
            view,
            query=self._query,
            destinations=self._matches(),
            destination=order.destination,
            trains=TRAINS if screen is Screen.TRAINS else (),
            train=order.train,
            seat_class=order.seat_class,
            passengers=tuple(
                PassengerLine(n, f"{i[:4]}**********{i[-4:]}") for n, i in order.passengers
            ),
            tickets=self._tickets(),
            total_fen=sum(t.price_fen for t in self._tickets()),
            fee_fen=REFUND_FEE_FEN if screen is Screen.REFUND else 0,
            refund_fen=self._refund_fen(),
            refund_to=BACK_TO_CARD if screen is Screen.REFUND else None,
            needs_card_station_confirm=screen is Screen.CONFIRM
            and self._needs_card_station_confirm(),
        )

    def _targets(self) -> tuple[str, ...]:
        if self._busy or self._screen is Screen.PRINT:
            return ()
        common = ("language",) if self._screen is Screen.HOME else ("language", "back", "cancel")
        return common + TARGETS[self._screen](self)

    def _matches(self) -> tuple[Station, ...]:
        if self._screen is not Screen.DESTINATION:
            return ()
        query = self._query.upper()  # empty: every station, as the real runtime lists them
        return tuple(
            s for s in STATIONS if s.code.startswith(query) or s.initials.startswith(query)
        )

    def _tickets(self) -> tuple[TicketLine, ...]:
        if self._screen is Screen.REFUND and self._scanned is not None:
            return (self._issued[self._scanned],)
        order = self._order
        if order.train is None or order.seat_class is None or order.destination is None:
            return ()
        return tuple(
            TicketLine(
                order.train.train,
                HERE,
                order.destination,
                order.train.departs_at,
                order.seat_class.name,
                Words(f"05车{n + 1:02d}F号", f"Coach 05 Seat {n + 1:02d}F"),
                name[:1] + "*",
                order.seat_class.price_fen,
            )
            for n, (name, _) in enumerate(order.passengers)
        )

    def _refund_fen(self) -> int:
        if self._screen is not Screen.REFUND or self._scanned is None:
            return 0
        return self._issued[self._scanned].price_fen - REFUND_FEE_FEN

    def _needs_card_station_confirm(self) -> bool:
        destination = self._order.destination
        card_refund_elsewhere = destination is not None and destination.code in self.no_card_refund
        return card_refund_elsewhere and not self._order.card_station_confirmed

    def _restart_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(self.idle_s, self._timed_out)

    def _timed_out(self) -> None:
        if self._screen is not Screen.HOME and not self._busy:
            self._home()


def _no_targets(runtime: FakeTvmRuntime) -> tuple[str, ...]:
    return ()


def _home_targets(runtime: FakeTvmRuntime) -> tuple[str, ...]:
    return ("start:purchase", "start:refund")


def _destination_targets(runtime: FakeTvmRuntime) -> tuple[str, ...]:
    return tuple(f"dest:{s.code}" for s in runtime._matches())


def _train_targets(runtime: FakeTvmRuntime) -> tuple[str, ...]:
    return tuple(
        f"train:{t.train}" for t in TRAINS if any(c.seats or c.standing for c in t.classes)
    )


def _class_targets(runtime: FakeTvmRuntime) -> tuple[str, ...]:
    train = runtime._order.train
    classes = train.classes if train is not None else ()
    return tuple(f"class:{c.code}" for c in classes if c.seats or c.standing)


def _passenger_targets(runtime: FakeTvmRuntime) -> tuple[str, ...]:
    entered = runtime._order.passengers
    removes = tuple(f"passenger:remove:{n}" for n in range(len(entered)))
    adding = ("passenger:add",) if len(entered) < 5 else ()
    return adding + removes + (("confirm",) if entered else ())


def _confirm_targets(runtime: FakeTvmRuntime) -> tuple[str, ...]:
    if runtime._needs_card_station_confirm():
        return ("confirm:card_station",)
    return ("confirm",)


TARGETS: dict[Screen, Callable[[FakeTvmRuntime], tuple[str, ...]]] = {
    Screen.HOME: _home_targets,
    Screen.DESTINATION: _destination_targets,
    Screen.TRAINS: _train_targets,
    Screen.CLASS: _class_targets,
    Screen.PASSENGERS: _passenger_targets,
    Screen.CONFIRM: _confirm_targets,
    Screen.PAY: lambda runtime: ("pay:card",),
    Screen.PRINT: _no_targets,
    Screen.DONE: lambda runtime: ("done",),
    Screen.SCAN: _no_targets,
    Screen.REFUND: lambda runtime: ("confirm",),
    Screen.CHANGE: _no_targets,
    Screen.MESSAGE: lambda runtime: ("done",),
    Screen.CLOSED: _no_targets,
}
HANDLERS = {
    Screen.HOME: FakeTvmRuntime._on_home,
    Screen.DESTINATION: FakeTvmRuntime._on_destination,
    Screen.TRAINS: FakeTvmRuntime._on_trains,
    Screen.CLASS: FakeTvmRuntime._on_class,
    Screen.PASSENGERS: FakeTvmRuntime._on_passengers,
    Screen.CONFIRM: FakeTvmRuntime._on_confirm,
    Screen.PAY: FakeTvmRuntime._on_pay,
    Screen.PRINT: FakeTvmRuntime._on_done,
    Screen.DONE: FakeTvmRuntime._on_done,
    Screen.SCAN: FakeTvmRuntime._on_scan,
    Screen.REFUND: FakeTvmRuntime._on_refund,
    Screen.CHANGE: FakeTvmRuntime._on_scan,
    Screen.MESSAGE: FakeTvmRuntime._on_message,
    Screen.CLOSED: FakeTvmRuntime._on_scan,
}
