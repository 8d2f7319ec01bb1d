"""The far end of a QR scanner's line as the contract tests drive it, and a polite wait."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Protocol

from drivers.sim.control import SimulatorClient

WAIT_S = 5.0


class ScannerDevice(Protocol):
    """The far end of the scanner's line, as a test drives it."""

    def scan(self, text: str) -> None: ...

    def raw(self, data: bytes) -> None: ...

    def type_slowly(self, text: str, byte_delay_ms: float) -> None: ...

    def hangup(self) -> None: ...


class SimulatorDevice:
    """The scanner simulator, steered over its control socket; each call waits for its event."""

    def __init__(self, client: SimulatorClient) -> None:
        self.client = client

    def scan(self, text: str) -> None:
        self.client.send("scan", text=text)
        self.client.expect("scanned", WAIT_S)

    def raw(self, data: bytes) -> None:
        self.client.send("raw", hex=data.hex())
        self.client.expect("raw_written", WAIT_S)

    def type_slowly(self, text: str, byte_delay_ms: float) -> None:
        self.client.send("type_slowly", text=text, byte_delay_ms=byte_delay_ms)
        self.client.expect("typed", WAIT_S)

    def hangup(self) -> None:
        self.client.send("hangup")
        self.client.expect("hung_up", WAIT_S)


class TcpScannerDevice:
    """A TCP listener playing the scanner for ``socket://``; takes each reconnection."""

    def __init__(self, suffix: bytes = b"\r") -> None:
        self.suffix = suffix
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._connections: list[socket.socket] = []
        self._connected = threading.Condition()
        threading.Thread(target=self._accept, name="tcp-scanner", daemon=True).start()

    def connection(self, number: int = 1) -> socket.socket:
        """The ``number``-th connection the scanner made (waits for it)."""
        with self._connected:
            if not self._connected.wait_for(lambda: len(self._connections) >= number, WAIT_S):
                raise AssertionError(f"the scanner did not connect {number} time(s)")
            return self._connections[number - 1]

    def scan(self, text: str) -> None:
        self.raw(text.encode() + self.suffix)

    def raw(self, data: bytes) -> None:
        self._latest().sendall(data)

    def type_slowly(self, text: str, byte_delay_ms: float) -> None:
        pause = threading.Event()
        for byte in text.encode() + self.suffix:
            self._latest().sendall(bytes([byte]))
            pause.wait(byte_delay_ms / 1000)

    def hangup(self) -> None:
        conn = self._latest()
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()

    def close(self) -> None:
        self._listener.close()
        for conn in self._connections:
            conn.close()

    def _latest(self) -> socket.socket:
        self.connection()
        with self._connected:
            return self._connections[-1]

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._connected:
                self._connections.append(conn)
                self._connected.notify_all()


async def eventually(condition: Callable[[], bool], timeout: float = WAIT_S) -> None:
    """Wait until ``condition()`` holds (an AssertionError if it does not in time)."""
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"not so after {timeout} s") from None
