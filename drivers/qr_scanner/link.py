"""The scanner's line: open, read a chunk, close, over pyserial's ``serial_for_url``.

This is the small byte-moving interface under ``QrScanner``. Its calls
block (a read waits up to ``poll_s`` for the first byte), so the scanner
runs them in its worker thread, never on the event loop. The URL decides the
transport: a device path (``/dev/ttyACM0``), a pty, ``socket://host:port``
or ``loop://``. Failures become driver errors: a line that cannot be opened
is ``DeviceUnavailable`` (``DeviceConfigError`` for a URL pyserial does not
know), a line that drops while reading is ``LinkLost``.
"""

from __future__ import annotations

import contextlib
from typing import Protocol, cast

import serial

from drivers.errors import DeviceConfigError, DeviceUnavailable, LinkLost

POLL_S = 0.1
MAX_CHUNK_BYTES = 4096


class ScannerLink(Protocol):
    """What ``QrScanner`` needs from a line."""

    @property
    def is_open(self) -> bool: ...

    def open(self) -> None:
        """Open the line (``DeviceUnavailable`` when it cannot)."""

    def read_chunk(self) -> bytes:
        """The bytes that arrived, or ``b""`` after ``poll_s`` of silence (``LinkLost``)."""

    def close(self) -> None:
        """Close the line; never raises."""


class _OpenLine(Protocol):
    """What every pyserial URL handler's port offers (the stubs type only ``SerialBase``)."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def close(self) -> None: ...


class SerialLink:
    """A scanner line opened by URL with pyserial (8N1, no flow control)."""

    def __init__(self, url: str, baudrate: int = 9600, poll_s: float = POLL_S) -> None:
        self.url = url
        self.baudrate = baudrate
        self.poll_s = poll_s
        self._serial: _OpenLine | None = None

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self) -> None:
        """Open the line; ``exclusive`` so two units cannot share one scanner."""
        self.close()
        try:
            port = serial.serial_for_url(
                self.url, baudrate=self.baudrate, timeout=self.poll_s, exclusive=True
            )
        except ValueError as exc:  # pyserial's word for an unknown URL scheme or bad setting
            raise DeviceConfigError(f"QR scanner url {self.url!r}: {exc}") from exc
        except OSError as exc:  # SerialException is an OSError
            raise DeviceUnavailable(f"cannot open the QR scanner at {self.url}: {exc}") from exc
        self._serial = cast(_OpenLine, port)

    def read_chunk(self) -> bytes:
        """Wait up to ``poll_s`` for a byte, then take whatever else is waiting."""
        line = self._serial
        if line is None:
            raise LinkLost(f"the QR scanner line {self.url} is not open")
        try:
            data = line.read(1)
            while data and len(data) < MAX_CHUNK_BYTES and (waiting := line.in_waiting):
                data += line.read(min(waiting, MAX_CHUNK_BYTES - len(data)))
        except OSError as exc:
            raise LinkLost(f"the QR scanner line {self.url} dropped: {exc}") from exc
        return bytes(data)

    def close(self) -> None:
        line, self._serial = self._serial, None
        if line is not None:
            with contextlib.suppress(OSError):
                line.close()
