"""The TVM at run time: intents in, views out, and the machine's health between them.

At start it finishes every sale the journal left open (``Checkout.recover``)
before it takes a new one. Then intents from the kiosk are handled one at a
time by the flow; every change publishes a view and writes a JSON line. The
QR scanner feeds the scan screen (refunds). Every few seconds the printer's
paper and cover and central's reachability are checked, so the home screen
says at once when the machine cannot sell, and sales left open (printing
stopped for paper, a payment in doubt) are finished once it can again;
after ``idle_timeout_s`` without a touch the screen goes home and a held
order is let go.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from device.central_link import CentralRefused, CentralUnreachable
from device.events import EventLog, Views
from device.tvm import words
from device.tvm.central import TvmLink
from device.tvm.checkout import Checkout
from device.tvm.desk import MachineHealth
from device.tvm.flow import KioskFlow
from device.tvm.offline import BlockKeeper, OfflineDesk
from device.tvm.view import Intent, IntentKind, Screen, TvmView
from drivers.errors import DriverError
from drivers.printer.printer import TicketPrinter
from drivers.printer.status import PrinterReason
from drivers.qr_scanner.framing import ScanGarbled
from drivers.qr_scanner.scanner import QrScanner

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
IDLE_CHECK_S = 1.0
QUIET_SCREENS = frozenset({Screen.HOME, Screen.CLOSED, Screen.PAY, Screen.PRINT})


class TvmRuntime:
    """Runs one TVM until cancelled."""

    def __init__(
        self,
        flow: KioskFlow,
        health: MachineHealth,
        checkout: Checkout,
        link: TvmLink,
        printer: TicketPrinter,
        scanner: QrScanner,
        events: EventLog,
        views: Views[TvmView],
        idle_timeout_s: float,
        health_every_s: float,
        monotonic: Callable[[], float],
        keeper: BlockKeeper | None = None,
        offline: OfflineDesk | None = None,
    ) -> None:
        self.flow = flow
        self.health = health
        self.checkout = checkout
        self.link = link
        self.printer = printer
        self.scanner = scanner
        self.events = events
        self.views = views
        self.idle_timeout_s = idle_timeout_s
        self.health_every_s = health_every_s
        self.monotonic = monotonic
        self.keeper = keeper
        self.offline = offline
        self._lock = asyncio.Lock()
        self._last_touch = monotonic()
        self.ready = asyncio.Event()  # set once recovery is over and the home screen is up
        flow.notify = self._publish  # pay, print: the passenger sees each step as it comes

    async def run(self) -> None:
        """Recover, then serve until cancelled."""
        await self._check_health()
        for line in await self.checkout.recover():
            log.info("recovered %s", line)
        self._publish()
        self.events.emit("tvm_ready", screen=self.flow.screen.value)
        self.ready.set()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._watch_health())
            tasks.create_task(self._watch_idle())
            tasks.create_task(self._read_scanner())

    async def handle(self, intent: Intent) -> None:
        """One passenger intent, from the kiosk; the new view is published."""
        self._last_touch = self.monotonic()
        if intent.kind is IntentKind.TOUCH:
            return
        async with self._lock:
            before = self.flow.screen
            try:
                await self.flow.handle(intent)
            except Exception:  # the flow must never leave a passenger on a dead screen
                log.exception("handling %s failed", intent.kind)
                await self.flow.go_home(words.TRY_AGAIN)
            self._changed(before)

    def current_view(self) -> TvmView:
        """The view as it stands now."""
        return self.flow.view(self._idle_left())

    async def _read_scanner(self) -> None:
        while True:
            scan = await self.scanner.next_scan()
            if isinstance(scan, ScanGarbled):
                continue
            async with self._lock:
                before = self.flow.screen
                await self.flow.ticket_scanned(scan.text)
                self._last_touch = self.monotonic()
                self._changed(before)

    async def _watch_idle(self) -> None:
        while True:
            await asyncio.sleep(IDLE_CHECK_S)
            if self.flow.screen in QUIET_SCREENS or self.flow.busy:
                continue
            if self.monotonic() - self._last_touch >= self.idle_timeout_s:
                async with self._lock:
                    before = self.flow.screen
                    await self.flow.go_home(words.IDLE_HOME)
                    self.events.emit("idle_timeout", screen=before.value)
                    self._changed(before)

    async def _watch_health(self) -> None:
        while True:
            await asyncio.sleep(self.health_every_s)
            before = (self.health.closed_because(), self.health.banner())
            await self._check_health()
            await self._finish_left_sales()
            if (self.health.closed_because(), self.health.banner()) != before:
                self.events.emit(
                    "health_changed",
                    printer=self.health.printer_reason.value,
                    online=self.health.is_online,
                    selling=self.health.closed_because() is None,
                )
                if self.flow.screen in (Screen.HOME, Screen.CLOSED):
                    self._publish()

    async def _finish_left_sales(self) -> None:
        """With nobody at the screen and the machine able to sell, finish sales left open.

        A sale whose printing stopped (paper out) prints once paper is back; one
        whose payment stayed in doubt is settled once the terminal answers.
        """
        if self.flow.screen is not Screen.HOME or self.flow.busy:
            return
        if self.health.closed_because() is not None or not await self.checkout.has_open_sales():
            return
        async with self._lock:
            if self.flow.screen is Screen.HOME and not self.flow.busy:
                for line in await self.checkout.recover():
                    log.info("finished a sale left open: %s", line)

    async def _check_health(self) -> None:
        try:
            status = await self.printer.status()
            self.health.printer_reason = status.reason
        except DriverError as exc:
            log.warning("printer status: %s", exc)
            self.health.printer_reason = PrinterReason.UNREACHABLE
        try:
            await self.link.me()
            self.health.is_online = True
            if self.keeper is not None:
                self.health.has_block = await self.keeper.sync() > 0
        except (CentralUnreachable, CentralRefused) as exc:
            if self.health.is_online:
                log.warning("central out of reach: %s", exc)
            self.health.is_online = False
            if self.offline is not None:
                self.health.has_block = bool(await self.offline.blocks())

    def _changed(self, before: Screen) -> None:
        if self.flow.screen is not before:
            self.events.emit("screen", screen=self.flow.screen.value, previous=before.value)
        self._publish()

    def _publish(self) -> None:
        self.views.publish(self.current_view())

    def _idle_left(self) -> float | None:
        if self.flow.screen in QUIET_SCREENS:
            return None
        return max(0.0, self.idle_timeout_s - (self.monotonic() - self._last_touch))


async def cancelled(task: asyncio.Task[None]) -> None:
    """Cancel a task and wait for it to end."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
