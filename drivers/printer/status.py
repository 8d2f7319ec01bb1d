"""What a receipt printer says about itself, read from its real-time status bytes.

ESC/POS printers answer ``DLE EOT n`` at once, even while offline, with one
byte per query: n = 1 printer status, 2 offline cause, 3 error cause, 4 paper
roll sensor. Every such byte has bits 1 and 4 set and bits 0 and 7 clear; a
byte that breaks this pattern is not a status answer. ``parse_status`` turns
the four answers into one ``PrinterStatus`` whose ``reason`` is a stable code
the TVM shows on screen and in its health. It is pure and total: whatever bytes
it is fed (none, too many, garbage) it returns a status and never raises, so a
printer that babbles or hangs becomes ``status_unknown``, never a crash.
python-escpos's own ``paper_status()`` reads a missing answer as "paper
adequate" and never checks the fixed bits, which is why this module exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from drivers.errors import DriverError, DriverErrorCode

DLE_EOT = b"\x10\x04"
STATUS_QUERIES: tuple[int, ...] = (1, 2, 3, 4)  # printer, offline cause, error cause, paper
FIXED_MASK = 0b1001_0011  # bits 0, 1, 4 and 7 are fixed in every status byte
FIXED_VALUE = 0b0001_0010  # bits 1 and 4 set, bits 0 and 7 clear


def status_query(n: int) -> bytes:
    """The ``DLE EOT n`` command asking for status byte ``n``."""
    return DLE_EOT + bytes((n,))


class PrinterReason(StrEnum):
    """Why the printer can or cannot print; a stable code, never renamed once shipped."""

    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"  # still prints; the roll needs changing soon
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"  # the printer says it is offline and gives no other cause
    ERROR = "printer_error"  # cutter jam, head too hot, unrecoverable fault
    UNKNOWN = "status_unknown"  # no answer in time, or an answer that is not a status
    UNREACHABLE = "unreachable"  # the link to the printer cannot be opened


# The one reason a status shows is its most serious condition, in this order.
SEVERITY: tuple[PrinterReason, ...] = (
    PrinterReason.UNREACHABLE,
    PrinterReason.UNKNOWN,
    PrinterReason.ERROR,
    PrinterReason.COVER_OPEN,
    PrinterReason.PAPER_OUT,
    PrinterReason.OFFLINE,
    PrinterReason.PAPER_NEAR_END,
    PrinterReason.OK,
)
READY_REASONS = frozenset({PrinterReason.OK, PrinterReason.PAPER_NEAR_END})

# (query n, bit mask, condition): which bit of which answer means what.
_BITS: tuple[tuple[int, int, PrinterReason], ...] = (
    (1, 0b0000_1000, PrinterReason.OFFLINE),  # offline
    (2, 0b0000_0100, PrinterReason.COVER_OPEN),  # cover open
    (2, 0b0010_0000, PrinterReason.PAPER_OUT),  # printing stopped at paper end
    (2, 0b0100_0000, PrinterReason.ERROR),  # an error occurred
    (3, 0b0000_0100, PrinterReason.ERROR),  # recoverable error
    (3, 0b0000_1000, PrinterReason.ERROR),  # autocutter error
    (3, 0b0010_0000, PrinterReason.ERROR),  # unrecoverable error
    (3, 0b0100_0000, PrinterReason.ERROR),  # automatically recoverable error (head heat)
    (4, 0b0000_1100, PrinterReason.PAPER_NEAR_END),  # roll near-end sensor
    (4, 0b0110_0000, PrinterReason.PAPER_OUT),  # roll end sensor
)


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """The printer's state at one moment: one reason code, every condition seen, and why."""

    reason: PrinterReason
    conditions: frozenset[PrinterReason]
    detail: str
    raw: bytes = b""  # the status bytes read, for logs

    @property
    def is_ready(self) -> bool:
        """True when a ticket can be printed now (near end still prints)."""
        return self.reason in READY_REASONS

    @classmethod
    def of(cls, conditions: set[PrinterReason], detail: str, raw: bytes = b"") -> PrinterStatus:
        """A status showing the most serious of ``conditions`` (``ok`` when there are none)."""
        found = frozenset(conditions) or frozenset({PrinterReason.OK})
        reason = next(r for r in SEVERITY if r in found)
        return cls(reason, found, detail, raw)

    @classmethod
    def unknown(cls, detail: str, raw: bytes = b"") -> PrinterStatus:
        """The printer did not answer, or answered something that is not a status."""
        return cls.of({PrinterReason.UNKNOWN}, detail, raw)

    @classmethod
    def unreachable(cls, detail: str) -> PrinterStatus:
        """The link to the printer could not be opened."""
        return cls.of({PrinterReason.UNREACHABLE}, detail)


def is_status_byte(value: int) -> bool:
    """True if ``value`` has the fixed bits every real-time status byte has."""
    return value & FIXED_MASK == FIXED_VALUE


def parse_status(answers: Sequence[bytes]) -> PrinterStatus:
    """The status the answers to ``DLE EOT 1..4`` (in that order) describe; never raises.

    Each answer is what was read after its query: exactly one status byte is
    expected. A missing, empty, longer or malformed answer makes the whole
    status ``status_unknown``: half a reading is no reading.
    """
    raw = b"".join(bytes(answer[:1]) for answer in answers)
    problem = _answer_problem(answers)
    if problem:
        return PrinterStatus.unknown(problem, raw)
    conditions = {reason for n, mask, reason in _BITS if raw[n - 1] & mask}
    return PrinterStatus.of(conditions, _describe(conditions, raw), raw)


def _answer_problem(answers: Sequence[bytes]) -> str:
    """What is wrong with the answers, or '' when each is one well-formed status byte."""
    for n, answer in zip(STATUS_QUERIES, answers, strict=False):
        if not answer:
            return f"DLE EOT {n}: no answer"
        if len(answer) != 1:
            return f"DLE EOT {n}: {len(answer)} bytes answered, expected 1"
        if not is_status_byte(answer[0]):
            return f"DLE EOT {n}: 0x{answer[0]:02x} is not a status byte"
    if len(answers) != len(STATUS_QUERIES):
        return f"{len(answers)} status answers, expected {len(STATUS_QUERIES)}"
    return ""


def _describe(conditions: set[PrinterReason], raw: bytes) -> str:
    """Words for logs: the conditions seen and the bytes they came from."""
    seen = ", ".join(sorted(conditions)) or "ok"
    return f"{seen} (status bytes {raw.hex(' ')})"


class PrinterFault(DriverError):
    """The printer could not print a ticket; ``status`` says what it reported.

    ``code`` is the drivers' stable code: ``device_unavailable`` when the
    printer cannot be reached, ``device_timeout`` when it stops answering,
    ``link_lost`` when the line dropped, ``device_refused`` when it answered
    with a fault (paper out, cover open, offline, error); ``reason`` is the
    finer printer code to show.
    """

    def __init__(self, message: str, status: PrinterStatus, code: DriverErrorCode) -> None:
        super().__init__(f"{message}: {status.detail}", code)
        self.status = status

    @property
    def reason(self) -> PrinterReason:
        """The printer's reason code behind this fault."""
        return self.status.reason


class PrinterNotReady(PrinterFault):
    """The printer reported a fault before the ticket: nothing was printed."""


class TicketIncomplete(PrinterFault):
    """The printer failed while or right after taking the ticket: it may be partly printed."""


def fault_code(status: PrinterStatus) -> DriverErrorCode:
    """The drivers' error code that matches a status that cannot print."""
    if status.reason is PrinterReason.UNREACHABLE:
        return DriverErrorCode.UNAVAILABLE
    if status.reason is PrinterReason.UNKNOWN:
        return DriverErrorCode.TIMEOUT
    return DriverErrorCode.REFUSED
