"""A passenger's hand at a simulated TVM: takes printed tickets, holds them under the scanner.

A scripted journey (``stationkit tvm run --script``) needs what a passenger
does away from the touchscreen: pick up the tickets the printer printed and
show one to the QR scanner, present a card that the bank approves or
declines. On simulated hardware the printer simulator
draws every ticket as a PNG; the hand reads the QR code off each new PNG
(zxing-cpp, as a phone or scanner would) and types a scan through the
scanner simulator's control socket; the card's fate is scripted on the
terminal simulator. Nothing here touches the TVM itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import zxingcpp
from PIL import Image

from drivers.pos.simulator.steering import TerminalScript
from drivers.sim.control import SimulatorClient

QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)  # a text line may read as 1D


class SimulatedHand:
    """Tickets from the printer simulator's folder, scans through the scanner simulator,
    cards through the terminal simulator."""

    def __init__(
        self, printed_dir: Path, scanner_socket: Path, terminal_socket: Path | None
    ) -> None:
        self.printed_dir = printed_dir
        self.scanner_socket = scanner_socket
        self.terminal_socket = terminal_socket
        self._before = set(self._pages())  # tickets printed before this journey are not ours
        self._read: dict[Path, str] = {}

    def printed(self) -> Sequence[str]:
        """The QR texts of the tickets printed since the journey began, in print order."""
        for page in self._pages():
            if page not in self._before and page not in self._read:
                text = _qr_text(page)
                if text is None:
                    break  # still being written: read it next time
                self._read[page] = text
        return [self._read[page] for page in sorted(self._read)]

    async def scan(self, qr_text: str) -> None:
        """Hold a ticket with ``qr_text`` under the scanner."""
        await asyncio.to_thread(self._send_scan, qr_text)

    def _send_scan(self, qr_text: str) -> None:
        with SimulatorClient(self.scanner_socket) as scanner:
            scanner.send("scan", text=qr_text)
            scanner.expect("scanned")

    async def present(self, outcome: str) -> None:
        """The next card at the terminal fares as ``outcome`` (approve, decline, ...)."""
        if self.terminal_socket is None:
            raise RuntimeError("the bank terminal simulator has no control socket in the profile")
        await asyncio.to_thread(self._script_terminal, self.terminal_socket, outcome)

    @staticmethod
    def _script_terminal(socket: Path, outcome: str) -> None:
        with SimulatorClient(socket) as terminal:
            TerminalScript(terminal).next(outcome)

    def _pages(self) -> list[Path]:
        return sorted(self.printed_dir.glob("ticket-*.png"))


def _qr_text(page: Path) -> str | None:
    try:
        with Image.open(page) as image:
            found = zxingcpp.read_barcodes(image, formats=QR_ONLY)
    except OSError:
        return None
    codes = [code.text for code in found if code.format == zxingcpp.BarcodeFormat.QRCode]
    return codes[0] if codes else None
