"""The transports: built from config, absent devices failing clearly, dropped links reopened."""

from __future__ import annotations

import inspect
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from escpos.printer import Usb  # type: ignore[import-untyped]
from printer_samples import make_ticket, token

from drivers.errors import DeviceUnavailable, DriverErrorCode
from drivers.printer.config import TicketPrinterConfig
from drivers.printer.link import NetworkLink, UsbLink, build_link
from drivers.printer.printer import open_ticket_printer
from drivers.printer.status import PrinterNotReady, PrinterReason, TicketIncomplete
from drivers.sim.control import SimulatorProcess

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def config(backend: str, section: dict[str, Any]) -> TicketPrinterConfig:
    return TicketPrinterConfig.model_validate(
        {"backend": backend, backend: section, "status_timeout_s": 0.3}
    )


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[SimulatorProcess]:
    with SimulatorProcess("drivers.printer.simulator", "--output", str(tmp_path)) as process:
        yield process


def network_to(simulator: SimulatorProcess) -> TicketPrinterConfig:
    ready = simulator.events("ready")[0]
    return config("network", {"host": ready["host"], "port": ready["port"], "timeout_s": 5})


async def test_no_printer_on_the_network_fails_at_open_with_a_clear_error() -> None:
    port = unused_port()
    with pytest.raises(DeviceUnavailable, match=f"127.0.0.1:{port}") as caught:
        await open_ticket_printer(config("network", {"host": "127.0.0.1", "port": port}))
    assert caught.value.code is DriverErrorCode.UNAVAILABLE


async def test_no_serial_device_fails_at_open_with_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "ttyUSB9"
    with pytest.raises(DeviceUnavailable, match="ttyUSB9"):
        await open_ticket_printer(config("serial", {"device": str(missing)}))


def test_the_usb_link_is_built_from_its_section() -> None:
    usb = {"vendor_id": 0x04B8, "product_id": 0x0E15, "in_ep": 0x81, "out_ep": 0x02}
    link = build_link(config("usb", {**usb, "timeout_s": 2.5}))
    assert isinstance(link, UsbLink)
    assert link.where == "USB 04b8:0e15"
    call = inspect.signature(Usb).bind(**link.arguments)  # python-escpos takes these as given
    assert call.arguments["idVendor"] == 0x04B8
    assert call.arguments["idProduct"] == 0x0E15
    assert (call.arguments["in_ep"], call.arguments["out_ep"]) == (0x81, 0x02)
    assert call.arguments["timeout"] == 2500  # pyusb counts milliseconds


async def test_an_absent_usb_printer_fails_at_open_with_a_clear_error() -> None:
    usb = config("usb", {"vendor_id": 0x04B8, "product_id": 0x0E15})
    with pytest.raises(DeviceUnavailable, match="USB 04b8:0e15") as caught:
        await open_ticket_printer(usb)
    assert caught.value.code is DriverErrorCode.UNAVAILABLE
    if not Usb.is_usable():
        assert "pyusb" in caught.value.message


def test_the_network_link_is_python_escpos_network() -> None:
    link = build_link(config("network", {"host": "192.0.2.10", "port": 9101, "timeout_s": 3}))
    assert isinstance(link, NetworkLink)
    assert (link.printer.host, link.printer.port, link.printer.timeout) == ("192.0.2.10", 9101, 3)


async def test_a_dropped_connection_is_reopened_on_the_next_status(
    simulator: SimulatorProcess,
) -> None:
    ticket = make_ticket(token())
    printer = await open_ticket_printer(network_to(simulator))
    try:
        simulator.expect("connected")
        simulator.send("disconnect")
        simulator.expect("disconnected")
        assert (await printer.status()).reason is PrinterReason.OK
        simulator.expect("connected")  # a second connection
        simulator.send("disconnect")
        simulator.expect("disconnected")
        await printer.print_ticket(ticket)  # the status check before it reconnects
        assert simulator.expect("ticket_printed")["path"].endswith(".png")
    finally:
        await printer.close()


async def test_a_printer_that_went_away_is_unreachable(simulator: SimulatorProcess) -> None:
    ticket = make_ticket(token())
    printer = await open_ticket_printer(network_to(simulator))
    try:
        simulator.stop()
        status = await printer.status()
        assert status.reason is PrinterReason.UNREACHABLE
        assert printer.health().reason is PrinterReason.UNREACHABLE
        with pytest.raises(PrinterNotReady) as caught:
            await printer.print_ticket(ticket)
        assert caught.value.code is DriverErrorCode.UNAVAILABLE
    finally:
        await printer.close()


class DroppingPrinter:
    """A TCP printer that answers status queries, then hangs up hard when a ticket starts."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        self.listener.close()  # no second connection: the printer is gone
        with connection:
            while data := connection.recv(4096):
                if data.replace(b"\x10\x04", b"").strip(b"\x01\x02\x03\x04"):
                    break  # print data: drop the line
                connection.sendall(b"\x12" * data.count(b"\x10\x04"))
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def test_a_line_dropped_mid_ticket_is_an_incomplete_ticket() -> None:
    printer_end = DroppingPrinter()
    printer = await open_ticket_printer(
        config("network", {"host": "127.0.0.1", "port": printer_end.port})
    )
    try:
        with pytest.raises(TicketIncomplete) as caught:
            await printer.print_ticket(make_ticket(token()))
        # the reset reaches the write, or the status check after it
        assert caught.value.code in (DriverErrorCode.LINK_LOST, DriverErrorCode.UNAVAILABLE)
        assert printer.health().last_error == caught.value.code.value
        assert printer.health().tickets_printed == 0
    finally:
        await printer.close()
        printer_end.thread.join(5)
