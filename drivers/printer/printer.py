"""The TVM's ticket printer: status before each sale, tickets and reports, health.

``TicketPrinter`` is the domain class the unit's runtime holds. It asks the
printer's real-time status (``DLE EOT 1..4``) and reads it with
``parse_status``; it prints a ticket only when the printer says it can, sends
the whole ticket in one write, and asks the status again afterwards, so a
roll that ran out or a cover opened mid-ticket becomes a ``TicketIncomplete``
error instead of a sale with no ticket. Every blocking call (python-escpos,
the socket or serial line, drawing the ticket) runs on one worker thread, so
the asyncio loop never waits and the printer never sees two jobs interleaved.
A link that dropped is reopened once per status request before the printer
is reported unreachable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from drivers.errors import DeviceUnavailable, DriverError, LinkLost
from drivers.printer.config import TicketPrinterConfig
from drivers.printer.layout import TicketLayout
from drivers.printer.link import PrinterLink, build_link
from drivers.printer.status import (
    STATUS_QUERIES,
    PrinterNotReady,
    PrinterReason,
    PrinterStatus,
    TicketIncomplete,
    fault_code,
    parse_status,
    status_query,
)
from drivers.printer.ticket import PrintedTicket

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PrinterHealth:
    """What the unit's health report says about the printer."""

    backend: str
    is_ready: bool
    reason: PrinterReason
    detail: str
    tickets_printed: int
    last_error: str | None  # the stable code of the last failure, if any


class TicketPrinter:
    """One ticket printer: ``status``, ``print_ticket``, ``print_text_report``, ``health``."""

    def __init__(
        self, link: PrinterLink, layout: TicketLayout, status_timeout_s: float, backend: str
    ) -> None:
        self._link = link
        self._layout = layout
        self._status_timeout_s = status_timeout_s
        self._backend = backend
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ticket-printer")
        self._status = PrinterStatus.unknown("not asked yet")
        self._tickets_printed = 0
        self._last_error: str | None = None
        self._closed = False

    @property
    def link(self) -> PrinterLink:
        """The transport under this printer (the simulator's process for ``sim``)."""
        return self._link

    async def open(self) -> None:
        """Open the link; DeviceUnavailable when the printer is absent."""
        try:
            await self._run(self._link.open)
        except DriverError:
            await self.close()
            raise

    async def status(self) -> PrinterStatus:
        """Ask the printer how it is now; never raises for what the printer answers."""
        return await self._run(self._read_status)

    async def print_ticket(self, ticket: PrintedTicket) -> None:
        """Print one ticket; PrinterNotReady before, TicketIncomplete during or after."""
        await self._run(lambda: self._print(lambda: self._layout.ticket_bytes(ticket)))
        self._tickets_printed += 1

    async def print_text_report(self, lines: Iterable[str]) -> None:
        """Print plain lines (a shift report) and cut; the same faults as a ticket."""
        text = list(lines)
        await self._run(lambda: self._print(lambda: self._layout.report_bytes(text)))

    def check_printable(self, texts: Iterable[str]) -> None:
        """Raise DeviceConfigError for any text the font cannot draw (check names at start-up)."""
        for text in texts:
            self._layout.check_printable(text)

    def health(self) -> PrinterHealth:
        """The last known state, without asking the printer."""
        status = self._status
        return PrinterHealth(
            backend=self._backend,
            is_ready=status.is_ready,
            reason=status.reason,
            detail=status.detail,
            tickets_printed=self._tickets_printed,
            last_error=self._last_error,
        )

    async def close(self) -> None:
        """Close the link (and stop the simulator); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._worker, self._link.close)
        self._worker.shutdown(wait=False)

    async def _run(self, job: Callable[[], T]) -> T:
        if self._closed:
            raise DeviceUnavailable("the ticket printer is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._worker, job)
        except DriverError as exc:
            self._last_error = exc.code.value
            raise

    # --- on the worker thread -------------------------------------------------

    def _read_status(self) -> PrinterStatus:
        self._status = self._ask_with_reconnect()
        return self._status

    def _ask_with_reconnect(self) -> PrinterStatus:
        """The status, reopening a dropped link once; unreachable if that fails too."""
        try:
            return self._ask()
        except LinkLost:
            pass  # a printer restarted or a cable replugged: try a fresh connection
        except DriverError as exc:
            return PrinterStatus.unknown(f"asking the status failed: {exc.message}")
        try:
            self._link.open()
            return self._ask()
        except DriverError as exc:
            return PrinterStatus.unreachable(exc.message)

    def _ask(self) -> PrinterStatus:
        """One round of ``DLE EOT 1..4``; stops at the first query left unanswered."""
        answers: list[bytes] = []
        for n in STATUS_QUERIES:
            self._link.discard_input()
            self._link.write(status_query(n))
            answers.append(self._link.read(1, self._status_timeout_s))
            if not answers[-1]:
                break
        return parse_status(answers)

    def _print(self, layout: Callable[[], bytes]) -> None:
        data = layout()  # a font problem fails here, before a byte is sent
        before = self._read_status()
        if not before.is_ready:
            raise PrinterNotReady("the ticket printer cannot print", before, fault_code(before))
        try:
            self._link.write(data)
        except DriverError as exc:
            failed = PrinterStatus.unknown(exc.message)
            self._status = failed
            raise TicketIncomplete("the line failed mid-ticket", failed, exc.code) from None
        after = self._read_status()
        if not after.is_ready:
            raise TicketIncomplete("the printer failed on the ticket", after, fault_code(after))


async def open_ticket_printer(config: TicketPrinterConfig) -> TicketPrinter:
    """Build and open the printer ``config`` describes (starting the simulator for ``sim``).

    Raises DeviceConfigError when the font is missing or lacks CJK glyphs and
    DeviceUnavailable when the printer cannot be reached.
    """
    layout = await asyncio.to_thread(TicketLayout, config)
    link: PrinterLink = build_link(config)
    printer = TicketPrinter(link, layout, config.status_timeout_s, config.backend)
    await printer.open()
    return printer
