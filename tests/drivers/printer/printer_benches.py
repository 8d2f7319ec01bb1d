"""The backends the ticket printer contract suite runs against, each with a way to steer it.

``sim``: the unit's own ``backend = "sim"``, steered over the simulator's
control socket as a test steers the simulators a unit started for itself.
``network``: the ``network`` backend aimed at a simulator process the test
started. ``serial``: the ``serial`` backend on a pty, with the simulator's
mechanism answering on the other end in this process. ``usb``: only with a
real printer, named by ``STATIONKIT_USB_PRINTER=vid:pid``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import queue
import select
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from printer_samples import FOOTER, sim_config

from drivers.printer.config import TicketPrinterConfig
from drivers.printer.mechanism import PrinterMechanism
from drivers.printer.printer import TicketPrinter, open_ticket_printer
from drivers.printer.render import RenderedPage
from drivers.sim.control import SimulatorClient, SimulatorError, SimulatorProcess
from drivers.sim.pty import Pty, open_pty

USB_PRINTER_ENV = "STATIONKIT_USB_PRINTER"
EVENT_TIMEOUT_S = 10.0


RESET: tuple[tuple[str, dict[str, Any]], ...] = (
    ("paper", {"state": "ok"}),
    ("cover", {"open": False}),
    ("offline", {"on": False}),
    ("error", {"kind": "none"}),
    ("silence", {"on": False}),
    ("garbage", {"on": False}),
)


class Bench:
    """A ticket printer on one backend, and the printer at the other end to steer.

    One bench serves a whole test module (starting simulators is the slow
    part); ``reset`` puts the far end back to a ready printer between tests,
    and tests compare counts before and after rather than from zero.
    """

    printer: TicketPrinter

    def reset(self) -> None:
        """A ready printer again, and no ticket left unclaimed."""
        for command, fields in RESET:
            self.steer(command, **fields)
        self.forget_tickets()

    def forget_tickets(self) -> None:
        """Drop the pictures of tickets no test looked at."""

    def steer(self, command: str, **fields: Any) -> None:
        """Apply a simulator command (``paper``, ``cover``...) before returning."""
        raise NotImplementedError

    def next_ticket(self) -> Path:
        """The PNG of the next ticket the printer cut."""
        raise NotImplementedError

    def counts(self) -> dict[str, Any]:
        """The printer's state and counts, as its ``status`` event reports them."""
        raise NotImplementedError


class ProcessBench(Bench):
    """A simulator process steered over its control channel (its pipes or its socket)."""

    def __init__(self, channel: SimulatorProcess | SimulatorClient) -> None:
        self.channel = channel

    def steer(self, command: str, **fields: Any) -> None:
        self.channel.send(command, **fields)
        self.channel.expect("status", EVENT_TIMEOUT_S)

    def next_ticket(self) -> Path:
        return Path(self.channel.expect("ticket_printed", EVENT_TIMEOUT_S)["path"])

    def counts(self) -> dict[str, Any]:
        self.channel.send("status")
        return self.channel.expect("status", EVENT_TIMEOUT_S)

    def forget_tickets(self) -> None:
        with contextlib.suppress(SimulatorError):
            while True:
                self.channel.expect("ticket_printed", 0)


class PtyBench(Bench):
    """The simulator's mechanism behind the master end of a pty, served by a thread."""

    def __init__(self, pty: Pty, output_dir: Path) -> None:
        self.pty = pty
        self.output_dir = output_dir
        self.tickets: queue.Queue[Path] = queue.Queue()
        self.mechanism = PrinterMechanism(576, self._page_printed)
        self._numbers = itertools.count(1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="pty-printer", daemon=True)
        self._thread.start()

    def steer(self, command: str, **fields: Any) -> None:
        steps: dict[str, Callable[[], None]] = {
            "paper": lambda: self.mechanism.set_paper(fields["state"], fields.get("after_bytes")),
            "cover": lambda: self.mechanism.update(cover_open=fields["open"]),
            "offline": lambda: self.mechanism.update(offline=fields["on"]),
            "error": lambda: self.mechanism.update(error=fields["kind"]),
            "silence": lambda: self.mechanism.update(silent=fields["on"]),
            "garbage": lambda: self.mechanism.update(garbage=fields["on"]),
        }
        steps[command]()

    def next_ticket(self) -> Path:
        return self.tickets.get(timeout=EVENT_TIMEOUT_S)

    def counts(self) -> dict[str, Any]:
        return self.mechanism.snapshot()

    def forget_tickets(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self.tickets.get_nowait()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(EVENT_TIMEOUT_S)
        self.pty.close()

    def _page_printed(self, page: RenderedPage) -> None:
        path = self.output_dir / f"ticket-{next(self._numbers):04d}.png"
        page.image.save(path)
        self.tickets.put(path)

    def _serve(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self.pty.master], [], [], 0.05)
            if not readable:
                continue
            try:
                data = os.read(self.pty.master, 65536)
            except OSError:
                return
            answers = self.mechanism.receive(data)
            if answers:
                os.write(self.pty.master, answers)


@contextlib.contextmanager
def sim_bench(tmp_path: Path) -> Iterator[Bench]:
    config = sim_config(tmp_path)
    printer = asyncio.run(open_ticket_printer(config))
    assert config.sim.control_socket is not None
    client = SimulatorClient(config.sim.control_socket)
    bench = ProcessBench(client)
    bench.printer = printer
    try:
        yield bench
    finally:
        client.close()
        asyncio.run(printer.close())


@contextlib.contextmanager
def network_bench(tmp_path: Path) -> Iterator[Bench]:
    simulator = SimulatorProcess("drivers.printer.simulator", "--output", str(tmp_path))
    ready = simulator.start()
    try:
        network = {"host": ready["host"], "port": ready["port"], "timeout_s": 5}
        bench = ProcessBench(simulator)
        bench.printer = asyncio.run(open_ticket_printer(config_for("network", network)))
        try:
            yield bench
        finally:
            asyncio.run(bench.printer.close())
    finally:
        simulator.stop()


@contextlib.contextmanager
def serial_bench(tmp_path: Path) -> Iterator[Bench]:
    bench = PtyBench(open_pty(), tmp_path)
    try:
        serial = {"device": bench.pty.path, "timeout_s": 5}
        bench.printer = asyncio.run(open_ticket_printer(config_for("serial", serial)))
        try:
            yield bench
        finally:
            asyncio.run(bench.printer.close())
    finally:
        bench.stop()


def config_for(backend: str, section: dict[str, Any]) -> TicketPrinterConfig:
    """A config of ``backend`` with its section, the test footer and a short status timeout."""
    return TicketPrinterConfig.model_validate(
        {"backend": backend, backend: section, "status_timeout_s": 0.3, "footer": FOOTER}
    )


class RealBench(Bench):
    """A real printer on the bench: nothing to steer, no pictures of what it printed."""

    def steer(self, command: str, **fields: Any) -> None:
        pytest.skip(f"a real printer cannot be steered ({command}): a person must do it")

    def next_ticket(self) -> Path:
        pytest.skip("a real printer's ticket is checked by eye")

    def counts(self) -> dict[str, Any]:
        pytest.skip("a real printer keeps no counts for us")

    def reset(self) -> None:
        pass  # a person keeps it ready


@contextlib.contextmanager
def usb_bench(tmp_path: Path) -> Iterator[Bench]:
    named = os.environ.get(USB_PRINTER_ENV)
    if not named:
        pytest.skip(
            "no USB printer here: the usb backend needs pyusb, libusb-1.0 and a real"
            f" printer named by {USB_PRINTER_ENV}=vid:pid in hex (e.g. 04b8:0e15)"
        )
    vendor, product = (int(part, 16) for part in named.split(":"))
    bench = RealBench()
    usb = {"vendor_id": vendor, "product_id": product}
    bench.printer = asyncio.run(open_ticket_printer(config_for("usb", usb)))
    try:
        yield bench
    finally:
        asyncio.run(bench.printer.close())


BENCHES = {
    "sim": sim_bench,
    "network": network_bench,
    "serial": serial_bench,
    "usb": usb_bench,
}
