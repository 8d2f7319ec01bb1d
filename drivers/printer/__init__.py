"""The TVM's ticket printer: an ESC/POS receipt printer on python-escpos, and its simulator.

``open_ticket_printer(config)`` builds a ``TicketPrinter`` from the
``[printer]`` section of a unit profile (``TicketPrinterConfig``): the
``network``, ``serial`` or ``usb`` backend, or ``sim``, which starts
``python -m drivers.printer.simulator`` and talks to it over the same
network backend. The unit hands it a ``PrintedTicket``; ``status()`` gives a
``PrinterStatus`` with a stable ``PrinterReason`` code.
"""

from drivers.printer.config import TicketPrinterConfig
from drivers.printer.printer import PrinterHealth, TicketPrinter, open_ticket_printer
from drivers.printer.status import (
    PrinterFault,
    PrinterNotReady,
    PrinterReason,
    PrinterStatus,
    TicketIncomplete,
)
from drivers.printer.ticket import PrintedTicket, StationName

__all__ = [
    "PrintedTicket",
    "PrinterFault",
    "PrinterHealth",
    "PrinterNotReady",
    "PrinterReason",
    "PrinterStatus",
    "StationName",
    "TicketIncomplete",
    "TicketPrinter",
    "TicketPrinterConfig",
    "open_ticket_printer",
]
