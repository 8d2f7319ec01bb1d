"""Building a ``QrScanner`` from its config: the serial backend and the sim backend.

Both backends run the same code: a ``SerialLink`` opened by URL under a
``QrScanner``. ``serial`` opens the configured URL. ``sim`` first starts the
scanner simulator (``python -m drivers.qr_scanner.simulator``) with the
configured suffix and control socket, takes the pty path from its ``ready``
event and opens that; the scanner stops the simulator when it closes. A
scanner that cannot be reached fails here, with a ``DriverError``, never
later and never quietly.
"""

from __future__ import annotations

import asyncio

from drivers.errors import DeviceUnavailable
from drivers.qr_scanner.config import ScannerConfig
from drivers.qr_scanner.framing import ScanFraming
from drivers.qr_scanner.link import SerialLink
from drivers.qr_scanner.scanner import Clock, QrScanner, utc_now
from drivers.sim.control import SimulatorError, SimulatorProcess

SIMULATOR_MODULE = "drivers.qr_scanner.simulator"


async def open_scanner(config: ScannerConfig, clock: Clock = utc_now) -> QrScanner:
    """A started scanner for ``config`` (``DriverError`` if it cannot be reached)."""
    simulator = None
    if config.backend == "sim":
        simulator = await asyncio.to_thread(start_simulator, config)
    url = simulator.path if simulator is not None else config.url or ""
    scanner = QrScanner(
        SerialLink(url, config.baudrate),
        ScanFraming(config.suffix, config.max_frame_bytes),
        clock=clock,
        reopen_backoff_max_s=config.reopen_backoff_max_s,
        on_close=None if simulator is None else simulator.stop,
    )
    try:
        await scanner.start()
    except BaseException:
        if simulator is not None:
            await asyncio.to_thread(simulator.stop)
        raise
    return scanner


class ScannerSimulatorProcess(SimulatorProcess):
    """The scanner simulator as a process; ``path`` is its pty once started."""

    def __init__(self, config: ScannerConfig) -> None:
        control = config.control_socket
        socket_args = () if control is None else ("--control-socket", str(control))
        super().__init__(SIMULATOR_MODULE, "--suffix", config.suffix, *socket_args)
        self.path = ""


def start_simulator(config: ScannerConfig) -> ScannerSimulatorProcess:
    """Start the scanner simulator for ``config`` and wait for its pty."""
    simulator = ScannerSimulatorProcess(config)
    try:
        ready = simulator.start()
        simulator.path = str(ready["path"])
    except (SimulatorError, OSError, KeyError) as exc:
        simulator.stop()
        raise DeviceUnavailable(f"the QR scanner simulator did not start: {exc}") from exc
    return simulator
