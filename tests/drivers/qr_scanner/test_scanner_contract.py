"""QrScanner's contract, run on every backend that can run here.

``sim``: the serial backend on a real pty fed by the simulator process,
which ``open_scanner`` starts itself; the test steers it over its control
socket. ``socket``: the same serial backend on ``socket://`` to a TCP
listener the test plays the scanner on (it can also hang up and take the
scanner's reconnection).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from scanner_devices import (
    WAIT_S,
    ScannerDevice,
    SimulatorDevice,
    TcpScannerDevice,
    eventually,
)

from drivers.errors import DeviceUnavailable, DriverErrorCode
from drivers.qr_scanner import (
    GarbledReason,
    QrScanner,
    Scan,
    ScanFraming,
    ScanGarbled,
    ScannerConfig,
    ScanResult,
    SerialLink,
    open_scanner,
)
from drivers.qr_scanner.scanner import QUEUE_SIZE
from drivers.sim.control import SimulatorClient, SimulatorError

pytestmark = pytest.mark.anyio

Line = tuple[QrScanner, ScannerDevice]
TOKEN = "SK1." + "Ab3-_x9Z" * 20  # the shape of a ticket token: 164 characters


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short private directory for Unix sockets (their paths are limited to 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="skq-") as path:
        yield Path(path)


@pytest.fixture
def tcp_device() -> Iterator[TcpScannerDevice]:
    device = TcpScannerDevice()
    yield device
    device.close()


@pytest.fixture(params=["sim", "socket"])
async def scanner_on_line(
    request: pytest.FixtureRequest, socket_dir: Path, tcp_device: TcpScannerDevice
) -> AsyncIterator[tuple[QrScanner, ScannerDevice]]:
    """A started scanner and the device end of its line, for each backend."""
    if request.param == "sim":
        control = socket_dir / "scanner.sock"
        scanner = await open_scanner(ScannerConfig(backend="sim", control_socket=control))
        client = SimulatorClient(control)
        yield scanner, SimulatorDevice(client)
        client.close()
    else:
        url = f"socket://127.0.0.1:{tcp_device.port}"
        scanner = await open_scanner(ScannerConfig(backend="serial", url=url))
        yield scanner, tcp_device
    await scanner.close()


async def next_result(scanner: QrScanner) -> ScanResult:
    return await asyncio.wait_for(scanner.next_scan(), WAIT_S)


async def next_text(scanner: QrScanner) -> str:
    result = await next_result(scanner)
    assert isinstance(result, Scan), result
    return result.text


async def test_a_scan_arrives_whole_with_an_aware_time(scanner_on_line: Line) -> None:
    scanner, device = scanner_on_line
    device.scan(TOKEN)
    result = await next_result(scanner)
    assert isinstance(result, Scan)
    assert result.text == TOKEN and len(TOKEN) == 164
    assert result.at.tzinfo is not None


async def test_a_scan_typed_byte_by_byte_arrives_whole(scanner_on_line: Line) -> None:
    scanner, device = scanner_on_line
    device.type_slowly("G1234-2026-12-01", byte_delay_ms=2)
    assert await next_text(scanner) == "G1234-2026-12-01"


async def test_scans_arrive_in_order(scanner_on_line: Line) -> None:
    scanner, device = scanner_on_line
    texts = [f"ticket-{n}" for n in range(5)]
    for text in texts:
        device.scan(text)
    assert [await next_text(scanner) for _ in texts] == texts


async def test_garbage_is_reported_briefly_and_the_next_scan_still_arrives(
    scanner_on_line: Line,
) -> None:
    scanner, device = scanner_on_line
    device.raw(b"\xff\xfe\x00\x1b[2J" + b"\r")
    device.scan("after-garbage")
    report = await next_result(scanner)
    assert report == ScanGarbled(GarbledReason.NOT_TEXT, "\\xff\\xfe\\x00\\x1b[2J")
    assert await next_text(scanner) == "after-garbage"


async def test_an_overlong_frame_is_reported_once_and_the_line_resynchronises(
    scanner_on_line: Line,
) -> None:
    scanner, device = scanner_on_line
    device.raw(b"A" * 5000 + b"\r")
    device.scan("after-overlong")
    report = await next_result(scanner)
    assert isinstance(report, ScanGarbled) and report.reason is GarbledReason.TOO_LONG
    assert len(report.excerpt) < 64
    assert await next_text(scanner) == "after-overlong"


async def test_health_counts_scans_and_garbled_frames(scanner_on_line: Line) -> None:
    scanner, device = scanner_on_line
    device.scan("one")
    device.raw(b"\x00\r")
    device.scan("two")
    for _ in range(3):
        await next_result(scanner)
    health = scanner.health()
    assert (health.scans, health.garbled, health.is_link_open) == (2, 1, True)
    assert health.last_error is None


async def test_a_dropped_line_is_reported_and_the_caller_just_waits(
    scanner_on_line: Line,
) -> None:
    scanner, device = scanner_on_line
    waiting = asyncio.create_task(scanner.next_scan())
    device.hangup()
    await eventually(lambda: scanner.health().last_error_code is DriverErrorCode.LINK_LOST)
    last_error = scanner.health().last_error
    assert last_error is not None and "dropped" in last_error
    assert not waiting.done()  # the drop is not the caller's exception
    await scanner.close()
    with pytest.raises(DeviceUnavailable, match="closed"):
        await waiting


async def test_next_scan_on_a_closed_scanner_is_a_driver_error(scanner_on_line: Line) -> None:
    scanner, _ = scanner_on_line
    await scanner.close()
    await scanner.close()  # closing twice is harmless
    assert not scanner.health().is_link_open
    with pytest.raises(DeviceUnavailable) as raised:
        await scanner.next_scan()
    assert raised.value.code is DriverErrorCode.UNAVAILABLE


async def test_the_scanner_reopens_a_line_that_comes_back(tcp_device: TcpScannerDevice) -> None:
    url = f"socket://127.0.0.1:{tcp_device.port}"
    scanner = await open_scanner(ScannerConfig(backend="serial", url=url))
    try:
        tcp_device.hangup()  # the listener stays: the scanner's next attempt connects
        tcp_device.connection(2)
        await eventually(lambda: scanner.health().reopens == 1)
        tcp_device.scan("after-reconnect")
        assert await next_text(scanner) == "after-reconnect"
        assert scanner.health().is_link_open
        assert scanner.health().last_error_code is DriverErrorCode.LINK_LOST
    finally:
        await scanner.close()


@pytest.mark.parametrize("scanner_on_line", ["sim"], indirect=True)
async def test_a_hung_up_pty_stays_reported_down(scanner_on_line: Line) -> None:
    scanner, device = scanner_on_line
    device.hangup()
    await eventually(lambda: not scanner.health().is_link_open)
    with pytest.raises(TimeoutError):  # it keeps trying, and nothing comes
        await asyncio.wait_for(scanner.next_scan(), 0.3)
    health = scanner.health()
    assert not health.is_link_open and health.reopens == 0
    assert health.last_error_code is DriverErrorCode.LINK_LOST


@pytest.mark.parametrize("scanner_on_line", ["sim"], indirect=True)
async def test_closing_the_scanner_stops_the_simulator_it_started(
    scanner_on_line: Line, socket_dir: Path
) -> None:
    scanner, device = scanner_on_line
    device.scan("before-close")
    assert await next_text(scanner) == "before-close"
    await scanner.close()
    with pytest.raises(SimulatorError, match="no simulator listens"):
        SimulatorClient(socket_dir / "scanner.sock", timeout=0.3)


async def test_scans_nobody_collects_are_dropped_oldest_first(
    tcp_device: TcpScannerDevice,
) -> None:
    url = f"socket://127.0.0.1:{tcp_device.port}"
    scanner = await open_scanner(ScannerConfig(backend="serial", url=url))
    try:
        tcp_device.raw(b"".join(f"stale-{n}\r".encode() for n in range(70)))
        await eventually(lambda: scanner.health().dropped == 70 - QUEUE_SIZE)
        assert await next_text(scanner) == f"stale-{70 - QUEUE_SIZE}"
        assert scanner.health().scans == 70
    finally:
        await scanner.close()


class ReadFailsOnce(SerialLink):
    """A line whose first read hits an unexpected error, as a buggy URL handler might."""

    has_failed = False

    def read_chunk(self) -> bytes:
        if not self.has_failed:
            self.has_failed = True
            raise ValueError("unexpected")
        return super().read_chunk()


async def test_an_unexpected_read_error_reopens_the_line_and_reading_goes_on(
    tcp_device: TcpScannerDevice,
) -> None:
    scanner = QrScanner(ReadFailsOnce(f"socket://127.0.0.1:{tcp_device.port}"), ScanFraming())
    await scanner.start()
    try:
        tcp_device.connection(2)  # the first connection was dropped and the line reopened
        await eventually(lambda: scanner.health().reopens == 1)  # opening flushes input
        tcp_device.scan("still-reading")
        assert await next_text(scanner) == "still-reading"
        health = scanner.health()
        assert health.reopens == 1 and health.last_error_code is DriverErrorCode.LINK_LOST
        assert health.last_error is not None and "unexpected" in health.last_error
    finally:
        await scanner.close()
