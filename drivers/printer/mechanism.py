"""A simulated receipt printer's mechanism: what it does with the bytes it receives.

``PrinterMechanism`` holds a scripted state (paper, cover, offline, error,
a hung status channel) and is fed every byte the printer receives; it returns
the bytes the printer answers (one per ``DLE EOT n`` query, from the state)
and hands each page to ``on_page`` when a cut ends it. While the printer
cannot print (paper out, cover open, offline, error) print data is dropped and
counted, the page in progress is lost, and status queries are still answered,
as on a real printer. It does no I/O: the simulator process drives it from a
TCP socket, and a test can drive it from a pty to stand behind a serial line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from drivers.printer.escpos_stream import Command, Cut, EscPosParser, StatusQuery, Unknown
from drivers.printer.render import RenderedPage, render

Paper = Literal["ok", "near_end", "out"]
ErrorKind = Literal["none", "cutter", "unrecoverable", "auto_recoverable"]
PAPER_STATES: tuple[Paper, ...] = ("ok", "near_end", "out")
ERROR_KINDS: tuple[ErrorKind, ...] = ("none", "cutter", "unrecoverable", "auto_recoverable")
FIXED_BITS = 0b0001_0010
GARBAGE = 0xFF  # breaks the fixed bits: not a status byte
_ERROR_BITS = {"none": 0, "cutter": 0x08, "unrecoverable": 0x20, "auto_recoverable": 0x40}
MAX_PAGE_COMMANDS = 100_000  # a page that never ends is dropped, not kept forever


@dataclass
class MechanismState:
    """The scripted condition of the printer."""

    paper: Paper = "ok"
    cover_open: bool = False
    offline: bool = False
    error: ErrorKind = "none"
    silent: bool = False  # answers no status query: a hung printer
    garbage: bool = False  # answers status queries with a byte that is not a status

    @property
    def can_print(self) -> bool:
        """True when print data reaches the paper."""
        return not (self.paper == "out" or self.cover_open or self.offline or self.error != "none")


@dataclass
class MechanismCounts:
    """What the printer has received and done, for the ``status`` event."""

    bytes_received: int = 0
    commands_dropped: int = 0  # print commands that arrived while the printer could not print
    pages_printed: int = 0
    pages_lost: int = 0
    unknown_commands: int = 0


PageHandler = Callable[[RenderedPage], None]


class PrinterMechanism:
    """Feed it received bytes; it answers status queries and prints pages."""

    def __init__(self, width_dots: int, on_page: PageHandler) -> None:
        self.width_dots = width_dots
        self.state = MechanismState()
        self.counts = MechanismCounts()
        self._on_page = on_page
        self._parser = EscPosParser()
        self._page: list[Command] = []
        self._paper_out_in: int | None = None  # bytes until the roll runs out
        self.lock = threading.RLock()  # one mechanism, several connections and a control channel

    def receive(self, data: bytes) -> bytes:
        """Take ``data`` as the printer would; the status answers to send back."""
        with self.lock:
            self.counts.bytes_received += len(data)
            if self._paper_out_in is not None and len(data) >= self._paper_out_in:
                first, data = data[: self._paper_out_in], data[self._paper_out_in :]
                answers = self._take(first)
                self._paper_out_in = None
                self.set_paper("out")
                return answers + self._take(data)
            if self._paper_out_in is not None:
                self._paper_out_in -= len(data)
            return self._take(data)

    def set_paper(self, paper: Paper, after_bytes: int | None = None) -> None:
        """Change the paper state now, or (``out`` only) after ``after_bytes`` more bytes."""
        with self.lock:
            if after_bytes is not None:
                if paper != "out":
                    raise ValueError("after_bytes only applies to paper 'out'")
                self._paper_out_in = after_bytes
                return
            self.state.paper = paper
            self._check_page()

    def update(self, **changes: Any) -> None:
        """Set other state fields (cover_open, offline, error, silent, garbage)."""
        with self.lock:
            for name, value in changes.items():
                setattr(self.state, name, value)
            self._check_page()

    def snapshot(self) -> dict[str, Any]:
        """State and counts, as the ``status`` event reports them."""
        with self.lock:
            return {**asdict(self.state), **asdict(self.counts)}

    def status_byte(self, n: int) -> int | None:
        """The answer to ``DLE EOT n``, or None where a printer stays silent."""
        state = self.state
        if state.silent or n not in (1, 2, 3, 4):
            return None
        if state.garbage:
            return GARBAGE
        bits = {
            1: 0x08 if not state.can_print else 0,
            2: (0x04 * state.cover_open)
            | (0x20 * (state.paper == "out"))
            | (0x40 * (state.error != "none")),
            3: _ERROR_BITS[state.error],
            4: {"ok": 0, "near_end": 0x0C, "out": 0x6C}[state.paper],
        }[n]
        return FIXED_BITS | bits

    def _take(self, data: bytes) -> bytes:
        answers = bytearray()
        for command in self._parser.feed(data):
            if isinstance(command, StatusQuery):
                answer = self.status_byte(command.n)
                if answer is not None:
                    answers.append(answer)
            elif self.state.can_print:
                self._print(command)
            else:
                self.counts.commands_dropped += 1
        return bytes(answers)

    def _print(self, command: Command) -> None:
        if isinstance(command, Unknown):
            self.counts.unknown_commands += 1
        self._page.append(command)
        if isinstance(command, Cut):
            page, self._page = self._page, []
            self.counts.pages_printed += 1
            self._on_page(render(page, self.width_dots))
        elif len(self._page) > MAX_PAGE_COMMANDS:
            self._lose_page()

    def _check_page(self) -> None:
        """A page half printed when the printer stops is lost, as the paper is torn."""
        if not self.state.can_print and self._page:
            self._lose_page()

    def _lose_page(self) -> None:
        self._page = []
        self.counts.pages_lost += 1
