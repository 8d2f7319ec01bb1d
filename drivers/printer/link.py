"""The ticket printer's transports: python-escpos's Network, Serial and Usb behind one interface.

``PrinterLink`` only moves bytes (open, write, read with a timeout, discard
stale input, close); every ESC/POS byte is made above it by the layout and
the status queries. Each link wraps the python-escpos printer class of its
kind and uses only what python-escpos's backends implement (``open``,
``_raw``, the device it opened, ``close``), reading with a timeout of its own
because ``Escpos._read`` waits as long as the connection's timeout. The
``sim`` backend is the same ``Network`` link aimed at the printer simulator,
which it starts as a process of its own. Every method blocks: the domain
class calls them from its worker thread. Failures become ``DriverError``\\ s:
an absent device ``DeviceUnavailable``, a dropped line ``LinkLost``, a
stalled write ``DeviceTimeout``.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from abc import ABC, abstractmethod
from typing import Any, Protocol

import serial
from escpos.exceptions import DeviceNotFoundError  # type: ignore[import-untyped]
from escpos.printer import Network, Serial, Usb  # type: ignore[import-untyped]

from drivers.errors import DeviceConfigError, DeviceTimeout, DeviceUnavailable, LinkLost
from drivers.printer.config import SimSettings, TicketPrinterConfig, UsbSettings
from drivers.sim.control import SimulatorError, SimulatorProcess

SIMULATOR_MODULE = "drivers.printer.simulator"
DISCARD_CHUNK = 4096


class PrinterLink(Protocol):
    """Moves bytes to and from one printer; every call blocks."""

    def open(self) -> None:
        """Open (or reopen) the connection; DeviceUnavailable when the printer is absent."""

    def write(self, data: bytes) -> None:
        """Send ``data`` whole; LinkLost or DeviceTimeout when the line fails."""

    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, or b"" when nothing came within ``timeout`` seconds."""

    def discard_input(self) -> None:
        """Throw away bytes already received (late answers to earlier queries)."""

    def close(self) -> None:
        """Close the connection; safe to call twice."""


class EscposLink(ABC):
    """What the three python-escpos transports share: open, write, close."""

    def __init__(self, printer: Any, where: str) -> None:
        self.printer = printer
        self.where = where
        self.is_open = False

    def open(self) -> None:
        """Open a fresh connection (closing any old one first)."""
        self.disconnect()
        try:
            self.printer.open()
        except DeviceNotFoundError as exc:
            raise DeviceUnavailable(f"no ticket printer at {self.where}: {exc}") from None
        except OSError as exc:
            raise DeviceUnavailable(f"ticket printer at {self.where}: {exc}") from None
        self.is_open = True

    def write(self, data: bytes) -> None:
        """Send ``data`` whole."""
        self._check_open()
        try:
            self.printer._raw(data)
        except OSError as exc:
            self.disconnect()
            if self._is_stall(exc):
                raise DeviceTimeout(f"ticket printer at {self.where} stopped taking data") from None
            raise LinkLost(f"line to the ticket printer at {self.where} dropped: {exc}") from None

    def _is_stall(self, exc: OSError) -> bool:
        """True when a write failed because the printer stopped taking data in time."""
        return isinstance(exc, TimeoutError)

    def disconnect(self) -> None:
        """Close the connection to the printer."""
        if self.is_open:
            self.is_open = False
            with contextlib.suppress(Exception):  # closing a dead line may fail any way it likes
                self.printer.close()

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        self.disconnect()

    @abstractmethod
    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, or b"" when nothing came within ``timeout`` seconds."""

    @abstractmethod
    def discard_input(self) -> None:
        """Throw away bytes already received."""

    def _check_open(self) -> None:
        if not self.is_open:
            raise LinkLost(f"the link to the ticket printer at {self.where} is not open")

    def _lost(self, exc: BaseException) -> LinkLost:
        self.disconnect()
        return LinkLost(f"line to the ticket printer at {self.where} dropped: {exc}")


class NetworkLink(EscposLink):
    """A printer on raw TCP (port 9100), through python-escpos's ``Network``."""

    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, or b"" after ``timeout`` seconds of silence."""
        sock = self._socket()
        try:
            sock.settimeout(timeout)
            data = sock.recv(size)
        except TimeoutError:
            return b""
        except OSError as exc:
            raise self._lost(exc) from None
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(self.printer.timeout)
        if not data:
            raise self._lost(ConnectionResetError("the printer closed the connection"))
        return data

    def discard_input(self) -> None:
        """Drop whatever the printer sent that nobody read."""
        sock = self._socket()
        try:
            sock.setblocking(False)
            while sock.recv(DISCARD_CHUNK):
                pass  # a late answer to a query nobody waits for any more
        except BlockingIOError:
            return  # nothing left to read
        except OSError as exc:
            raise self._lost(exc) from None
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(self.printer.timeout)
        raise self._lost(ConnectionResetError("the printer closed the connection"))

    def _socket(self) -> socket.socket:
        self._check_open()
        sock: socket.socket = self.printer.device
        return sock


class SerialLink(EscposLink):
    """A printer on a serial line, through python-escpos's ``Serial`` (pyserial)."""

    def open(self) -> None:
        """Open the port; writes then time out instead of blocking for ever."""
        super().open()
        self.printer.device.write_timeout = self.printer.timeout

    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, or b"" after ``timeout`` seconds of silence."""
        self._check_open()
        port = self.printer.device
        try:
            port.timeout = timeout
            data: bytes = port.read(size)
            port.timeout = self.printer.timeout
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from None
        return data

    def discard_input(self) -> None:
        """Drop whatever the printer sent that nobody read."""
        self._check_open()
        try:
            self.printer.device.reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from None

    def _is_stall(self, exc: OSError) -> bool:
        """pyserial reports a write timeout with an exception of its own."""
        return isinstance(exc, serial.SerialTimeoutException) or super()._is_stall(exc)


class UsbLink(EscposLink):
    """A printer on USB bulk endpoints, through python-escpos's ``Usb`` (pyusb and libusb).

    The ``Usb`` object is made at open, once pyusb is known to be there:
    without pyusb python-escpos's ``Usb`` raises even from its destructor.
    """

    def __init__(self, settings: UsbSettings, profile: str) -> None:
        super().__init__(None, f"USB {settings.vendor_id:04x}:{settings.product_id:04x}")
        self.arguments: dict[str, Any] = {
            "idVendor": settings.vendor_id,
            "idProduct": settings.product_id,
            "timeout": int(settings.timeout_s * 1000),  # milliseconds, as pyusb counts
            "in_ep": settings.in_ep,
            "out_ep": settings.out_ep,
            "profile": profile,
        }

    def open(self) -> None:
        """Find and claim the device; DeviceUnavailable when it (or pyusb) is absent."""
        if not Usb.is_usable():
            raise DeviceUnavailable(
                f"ticket printer at {self.where}: the usb backend needs the pyusb package"
                " and libusb-1.0, which are not installed"
            )
        if self.printer is None:
            self.printer = Usb(**self.arguments)
        super().open()

    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, or b"" after ``timeout`` seconds of silence."""
        self._check_open()
        try:
            return bytes(self.printer.device.read(self.printer.in_ep, size, int(timeout * 1000)))
        except OSError as exc:  # pyusb's USBError is an IOError
            if exc.errno == errno.ETIMEDOUT or type(exc).__name__ == "USBTimeoutError":
                return b""
            raise self._lost(exc) from None

    def discard_input(self) -> None:
        """Drop whatever the printer sent that nobody read."""
        while self.read(DISCARD_CHUNK, 0.001):
            pass


class SimulatedLink(NetworkLink):
    """The ``Network`` link to the printer simulator, which it starts on first open."""

    def __init__(self, settings: SimSettings, width_dots: int, profile: str) -> None:
        super().__init__(None, "the printer simulator")
        self.settings = settings
        self.width_dots = width_dots
        self.profile = profile
        self.simulator: SimulatorProcess | None = None

    def open(self) -> None:
        """Start the simulator (once), then connect to its TCP port."""
        if self.simulator is None:
            self.simulator = self._start()
        super().open()

    def close(self) -> None:
        """Disconnect and stop the simulator."""
        super().close()
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None

    def _start(self) -> SimulatorProcess:
        simulator = SimulatorProcess(SIMULATOR_MODULE, *self._arguments())
        try:
            ready = simulator.start(self.settings.timeout_s)
        except (SimulatorError, OSError) as exc:
            simulator.stop()
            raise DeviceUnavailable(f"the printer simulator did not start: {exc}") from None
        self.where = f"the printer simulator on {ready['host']}:{ready['port']}"
        self.printer = Network(
            ready["host"], ready["port"], timeout=self.settings.timeout_s, profile=self.profile
        )
        return simulator

    def _arguments(self) -> list[str]:
        settings = self.settings
        arguments = ["--host", settings.host, "--port", str(settings.port)]
        arguments += ["--paper-width", str(self.width_dots)]
        if settings.output_dir is not None:
            arguments += ["--output", str(settings.output_dir)]
        if settings.control_socket is not None:
            arguments += ["--control-socket", str(settings.control_socket)]
        return arguments


def build_link(config: TicketPrinterConfig) -> EscposLink:
    """The link ``config.backend`` names, built from its section (not opened yet)."""
    profile = config.profile
    if config.backend == "sim":
        return SimulatedLink(config.sim, config.width_dots, profile)
    if config.backend == "network" and config.network is not None:
        net = config.network
        printer = Network(net.host, net.port, timeout=net.timeout_s, profile=profile)
        return NetworkLink(printer, f"{net.host}:{net.port}")
    if config.backend == "serial" and config.serial is not None:
        line = config.serial
        printer = Serial(
            line.device, baudrate=line.baudrate, bytesize=line.bytesize, timeout=line.timeout_s,
            parity=line.parity, stopbits=line.stopbits, xonxoff=line.xonxoff,
            dsrdtr=line.dsrdtr, profile=profile,
        )  # fmt: skip
        return SerialLink(printer, line.device)
    if config.backend == "usb" and config.usb is not None:
        return UsbLink(config.usb, profile)
    raise DeviceConfigError(f"ticket printer backend {config.backend!r} has no settings")
