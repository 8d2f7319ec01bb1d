"""The TVM's ticket printer: an ESC/POS receipt printer on python-escpos, and its simulator.

``open_ticket_printer(config)`` builds a ``TicketPrinter`` from the
``[printer]`` section of a unit profile (``TicketPrinterConfig``): the
``network``, ``serial`` or ``usb`` backend, or ``sim``, which starts
``python -m drivers.printer.simulator`` and talks to it over the same
network backend. The unit hands it a ``PrintedTicket``; ``status()`` gives a
``PrinterStatus`` with a stable ``PrinterReason`` code. The names below load
on first use, so the simulator process does not pay for python-escpos's
profile database (most of a second) when it starts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drivers.printer.config import TicketPrinterConfig as TicketPrinterConfig
    from drivers.printer.printer import PrinterHealth as PrinterHealth
    from drivers.printer.printer import TicketPrinter as TicketPrinter
    from drivers.printer.printer import open_ticket_printer as open_ticket_printer
    from drivers.printer.status import PrinterFault as PrinterFault
    from drivers.printer.status import PrinterNotReady as PrinterNotReady
    from drivers.printer.status import PrinterReason as PrinterReason
    from drivers.printer.status import PrinterStatus as PrinterStatus
    from drivers.printer.status import TicketIncomplete as TicketIncomplete
    from drivers.printer.ticket import PrintedTicket as PrintedTicket
    from drivers.printer.ticket import StationName as StationName

_HOMES = {
    "TicketPrinterConfig": "config",
    "PrinterHealth": "printer",
    "TicketPrinter": "printer",
    "open_ticket_printer": "printer",
    "PrinterFault": "status",
    "PrinterNotReady": "status",
    "PrinterReason": "status",
    "PrinterStatus": "status",
    "TicketIncomplete": "status",
    "PrintedTicket": "ticket",
    "StationName": "ticket",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
