"""One side of a gate lane: presentations in, decisions journaled, the flap opened, passages seen.

Its scanner and card reader feed one queue, served one presentation at a
time. Each decision is journaled durably (``synchronous=FULL``) before the
flap moves: journal before act. Journal writes take the unit's write turn
(``UnitContext.writes``), first come first served with the sync task's
short writes, so a passenger waits behind one of those at most. An admitted
passenger who does not walk through within ``passage_timeout_s`` has the
passage annulled (journaled too), so the ticket stays usable. Every
decision is one JSON line; every change a new view for the screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from device.events import EventLog, Views
from device.gate.checker import Checked, TicketChecker
from device.gate.messages import ADMITTED, EMERGENCY, FLOW_CONTROL, READY, refusal
from device.gate.rules import Decision
from device.gate.view import Banner, GateView, Outcome
from drivers.card_reader.reader import CardFault, CardReader, CardTap
from drivers.gate_mechanism.mechanism import GateMechanism
from drivers.qr_scanner.framing import ScanGarbled
from drivers.qr_scanner.scanner import QrScanner, Scan
from offline_store.passages import Direction as JournalDirection
from offline_store.passages import NewPassage, PassageKind, UnitMode
from offline_store.store import UnitStore
from protocol.units import Direction, GateReason

Presentation = Scan | ScanGarbled | CardTap | CardFault
DecisionCall = Callable[[Callable[[UnitStore], Checked]], Awaitable[Checked]]
StoreCall = Callable[[Callable[[UnitStore], Any]], Awaitable[Any]]
log = logging.getLogger(__name__)
REFUSAL_SHOWN_S = 2.0  # how long a refusal stays on screen before the ready screen


@dataclass
class SideDevices:
    """What passengers use on one side."""

    scanner: QrScanner
    card_reader: CardReader | None = None


@dataclass(frozen=True)
class SideTiming:
    """How long the flap waits for the passenger, and the flow-control gap."""

    passage_timeout_s: float
    flow_control_gap_s: float


class GateSideLoop:
    """Serves one direction of the lane."""

    def __init__(
        self,
        direction: Direction,
        devices: SideDevices,
        checker: TicketChecker,
        mechanism: GateMechanism,
        timing: SideTiming,
        on_store: StoreCall,
        unit: UnitContext,
    ) -> None:
        self.direction = direction
        self.devices = devices
        self.checker = checker
        self.mechanism = mechanism
        self.timing = timing
        self.on_store = on_store
        self.unit = unit
        self.queue: asyncio.Queue[Presentation] = asyncio.Queue()
        self._reset: asyncio.TimerHandle | None = None

    async def run(self) -> None:
        """Serve presentations until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._pump(self.devices.scanner.next_scan))
            if self.devices.card_reader is not None:
                tasks.create_task(self._pump(self.devices.card_reader.next_tap))
            tasks.create_task(self._serve())

    def show_ready(self) -> None:
        """The screen a passenger sees before presenting anything (mode banner included)."""
        mode = self.unit.mode
        if mode is UnitMode.OUT_OF_SERVICE:
            self._publish(Outcome.CLOSED, refusal(GateReason.OUT_OF_SERVICE))
        elif mode is UnitMode.EMERGENCY_OPEN:
            self._publish(Outcome.ADMIT, EMERGENCY)
        elif mode is UnitMode.FLOW_CONTROL:
            self._publish(Outcome.READY, FLOW_CONTROL)
        else:
            self._publish(Outcome.READY, READY)

    async def _pump(self, next_one: Callable[[], Awaitable[Presentation]]) -> None:
        while True:
            await self.queue.put(await next_one())

    async def _serve(self) -> None:
        while True:
            presentation = await self.queue.get()
            try:
                await self._handle(presentation)
            except Exception:  # one bad presentation must never stop the gate
                log.exception("%s: handling a presentation failed", self.direction)
                self.mechanism.lock(self.direction)

    async def _handle(self, presentation: Presentation) -> None:
        mode = self.unit.mode
        if mode is UnitMode.EMERGENCY_OPEN:
            self.unit.events.emit("presentation_ignored", direction=self.direction, mode=mode)
            return
        checked = await self._check(presentation, mode)
        passage = await self._journal(checked, mode, presentation)
        self._log_decision(checked, mode, presentation)
        if checked.decision.admit:
            await self._let_through(checked, passage)
        else:
            self._refuse(checked.decision)

    async def _check(self, presentation: Presentation, mode: UnitMode) -> Checked:
        if mode is UnitMode.OUT_OF_SERVICE:
            return Checked(Decision.refuse(GateReason.OUT_OF_SERVICE))
        if isinstance(presentation, ScanGarbled):
            return Checked(Decision.refuse(GateReason.MALFORMED))
        if isinstance(presentation, CardFault):
            return Checked(Decision.refuse(GateReason.CARD_UNREADABLE))
        now, checker = self.unit.clock(), self.checker
        if isinstance(presentation, Scan):
            text = presentation.text
            checked: Checked = await self.on_store(
                lambda store: checker.check_code(store, text, now)
            )
            return checked
        id_number = presentation.id_number
        checked = await self.on_store(lambda store: checker.check_card(store, id_number, now))
        return checked

    async def _journal(
        self, checked: Checked, mode: UnitMode, presentation: Presentation
    ) -> NewPassage:
        decision = checked.decision
        passage = NewPassage(
            direction=JournalDirection(self.direction),
            kind=PassageKind.ADMITTED if decision.admit else PassageKind.REFUSED,
            reason="ok" if decision.reason is None else decision.reason.value,
            unit_time=self.unit.local_clock(),
            central_time=self.unit.central_clock(),
            mode=mode,
            ticket_id=checked.ticket_id,  # type: ignore[arg-type]
            detail={"by": _source(presentation)},
        )
        async with self.unit.writes:
            await self.on_store(lambda store: store.journal.append(passage))
        return passage

    def _log_decision(self, checked: Checked, mode: UnitMode, presentation: Presentation) -> None:
        decision = checked.decision
        self.unit.events.emit(
            "decision",
            ticket_id=checked.ticket_id,
            direction=self.direction,
            result="admit" if decision.admit else "refuse",
            reason=None if decision.reason is None else decision.reason.value,
            mode=mode.value,
            by=_source(presentation),
        )

    async def _let_through(self, checked: Checked, passage: NewPassage) -> None:
        self.mechanism.open(self.direction)
        self.mechanism.show(self.direction, "green")
        self.mechanism.beep("ok")
        self._publish(Outcome.ADMIT, ADMITTED, detail=_seat_line(checked))
        passed = await self.mechanism.wait_passage(self.direction, self.timing.passage_timeout_s)
        self.mechanism.lock(self.direction)
        self.mechanism.show(self.direction, "off")
        if passed:
            self.unit.events.emit(
                "passage_completed", ticket_id=checked.ticket_id, direction=self.direction
            )
        else:
            await self._annul(checked, passage)
        if self.unit.mode is UnitMode.FLOW_CONTROL:
            await asyncio.sleep(self.timing.flow_control_gap_s)
        self.show_ready()

    async def _annul(self, checked: Checked, passage: NewPassage) -> None:
        mode = self.unit.mode
        async with self.unit.writes:
            await self.on_store(
                lambda store: store.journal.annul(
                    passage.passage_id,
                    reason="no_passage",
                    unit_time=self.unit.local_clock(),
                    central_time=self.unit.central_clock(),
                    mode=mode,
                )
            )
        self.unit.events.emit(
            "passage_annulled", ticket_id=checked.ticket_id, direction=self.direction
        )

    def _refuse(self, decision: Decision) -> None:
        reason = decision.reason or GateReason.MALFORMED
        self.mechanism.show(self.direction, "red")
        self.mechanism.beep("refuse")
        self._publish(Outcome.REFUSE, refusal(reason), reason=reason.value)
        loop = asyncio.get_running_loop()
        self._reset = loop.call_later(REFUSAL_SHOWN_S, self._back_to_ready)

    def _back_to_ready(self) -> None:
        with contextlib.suppress(Exception):
            self.mechanism.show(self.direction, "off")
        self.show_ready()

    def _publish(self, outcome: Outcome, words: Any, **extra: Any) -> None:
        if self._reset is not None:
            self._reset.cancel()
            self._reset = None
        view = GateView(self.direction, outcome, words, banner=self.unit.banner(), **extra)
        self.unit.views.publish(view)


@dataclass
class UnitContext:
    """What every side shares with the unit: its mode, clocks, event log and screen."""

    events: EventLog
    views: Views[GateView]
    clock: Callable[[], dt.datetime]  # decisions' time (central's when ours drifted)
    local_clock: Callable[[], dt.datetime]
    central_clock: Callable[[], dt.datetime | None]
    banner: Callable[[], Banner]
    mode: UnitMode = UnitMode.IN_SERVICE
    writes: asyncio.Lock = field(default_factory=asyncio.Lock)  # the store's write turn


def _source(presentation: Presentation) -> str:
    return "qr" if isinstance(presentation, (Scan, ScanGarbled)) else "card"


def _seat_line(checked: Checked) -> str | None:
    claims = checked.claims
    if claims is None:
        return None
    place = "无座" if claims.coach is None else f"{claims.coach:02d}车 {claims.seat}号"
    return f"{claims.train}  {place}"
