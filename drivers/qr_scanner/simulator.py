"""The QR scanner simulator: a process that types scans onto a raw pty.

Run as ``python -m drivers.qr_scanner.simulator [--control-socket PATH]
[--suffix CR|CRLF|LF|TAB]``. It opens a pty, reports ``ready`` with the
``path`` the unit opens, then obeys commands on its control channel
(stdin, and the socket when given):

- ``scan`` {text}: types the text and the suffix at once (event ``scanned``);
- ``raw`` {hex}: writes those bytes as they are, garbage included
  (event ``raw_written``);
- ``type_slowly`` {text, byte_delay_ms}: types text and suffix one byte at
  a time, so the unit reads split frames (event ``typed``);
- ``hangup``: closes the line as an unplugged scanner would (event
  ``hung_up``); later writes are refused with an ``error`` event.

The simulator keeps the pty's slave end open after a hang-up, so the pty's
number is not given to anyone else while the unit keeps trying to reopen it.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from drivers.qr_scanner.framing import SUFFIX_BYTES, Suffix
from drivers.sim.control import Control, Handler, Message
from drivers.sim.pty import Pty, open_pty

MAX_BYTE_DELAY_MS = 1000.0


class SimulatedScanner:
    """The scanner's side of the pty: writes what the commands ask for."""

    def __init__(self, pty: Pty, suffix: bytes, control: Control) -> None:
        self._pty = pty
        self._suffix = suffix
        self._control = control
        self._is_hung_up = False

    def handlers(self) -> dict[str, Handler]:
        """The commands this simulator obeys."""
        return {
            "scan": self.scan,
            "raw": self.raw,
            "type_slowly": self.type_slowly,
            "hangup": self.hangup,
        }

    def scan(self, message: Message) -> None:
        text = _text(message)
        self._write(text.encode() + self._suffix)
        self._control.emit("scanned", text=text)

    def raw(self, message: Message) -> None:
        data = bytes.fromhex(_field(message, "hex", str))
        self._write(data)
        self._control.emit("raw_written", hex=data.hex(), bytes=len(data))

    def type_slowly(self, message: Message) -> None:
        text = _text(message)
        delay_ms = float(_field(message, "byte_delay_ms", (int, float)))
        if not 0 <= delay_ms <= MAX_BYTE_DELAY_MS:
            raise ValueError(f"byte_delay_ms must be within 0..{MAX_BYTE_DELAY_MS:g}")
        data = text.encode() + self._suffix
        for byte in data:
            self._write(bytes([byte]))
            time.sleep(delay_ms / 1000)
        self._control.emit("typed", text=text, bytes=len(data))

    def hangup(self, _message: Message) -> None:
        if not self._is_hung_up:
            self._is_hung_up = True
            os.close(self._pty.master)
            self._pty.master = -1  # closed: Pty.close must not close a reused number
        self._control.emit("hung_up", path=self._pty.path)

    def _write(self, data: bytes) -> None:
        if self._is_hung_up:
            raise RuntimeError("the line is hung up")
        view = memoryview(data)
        while view:
            view = view[os.write(self._pty.master, view) :]


def _field(message: Message, name: str, kind: type[Any] | tuple[type[Any], ...]) -> Any:
    value = message.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{message['command']} needs {name!r}")
    return value


def _text(message: Message) -> str:
    text: str = _field(message, "text", str)
    return text


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--control-socket", type=Path, default=None)
    parser.add_argument("--suffix", choices=sorted(SUFFIX_BYTES), default="CR")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Open the pty, report ``ready`` and obey commands until stdin closes."""
    arguments = _arguments(argv)
    suffix: Suffix = arguments.suffix
    pty = open_pty()
    control = Control(socket_path=arguments.control_socket)
    scanner = SimulatedScanner(pty, SUFFIX_BYTES[suffix], control)
    control.emit("ready", path=pty.path, suffix=suffix)
    try:
        control.serve(scanner.handlers())
    finally:
        pty.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
