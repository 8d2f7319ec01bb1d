"""The terminal simulator as a process: bad commands and line noise never stop it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from drivers.pos.config import BankTerminalConfig, open_bank_terminal
from drivers.pos.results import Outcome, new_transaction_id
from drivers.pos.simulator.steering import TerminalScript
from drivers.sim.control import SimulatorClient, SimulatorProcess

SIMULATOR = "drivers.pos.simulator"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short private directory (a Unix socket path must stay under 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="pos-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def simulator(short_dir: Path) -> Iterator[SimulatorProcess]:
    with SimulatorProcess(
        SIMULATOR, "--control-socket", str(short_dir / "c.sock"), "--link", str(short_dir / "tty")
    ) as process:
        yield process


@pytest.mark.parametrize(
    ("command", "fields", "complaint"),
    [
        ("next", {"outcome": "explode"}, "outcome must be one of"),
        ("next", {"outcome": "late", "ms": -1}, "ms must be"),
        ("card", {"masked": "6228-4804"}, "a card number is"),
        ("card", {"masked": "622848******0018", "acquirer": "a bank with spaces"}, "layout"),
        ("faults", {"nak_requests": "two"}, "nak_requests must be"),
        ("timing", {"ack_timeout_s": 0}, "ack_timeout_s must be"),
        ("rewind", {}, "unknown command"),
    ],
)
def test_a_bad_command_is_an_error_event_and_the_terminal_goes_on(
    simulator: SimulatorProcess, command: str, fields: dict[str, object], complaint: str
) -> None:
    simulator.send(command, **fields)
    assert complaint in simulator.expect("error")["message"]
    simulator.send("totals")
    assert simulator.expect("totals")["approved_count"] == 0


def test_ready_names_the_stable_link_and_the_pty_behind_it(
    simulator: SimulatorProcess, short_dir: Path
) -> None:
    ready = simulator.events("ready")[0]
    assert ready["path"] == str(short_dir / "tty")
    assert os.readlink(ready["path"]) == ready["pty"]


def test_noise_on_the_line_does_not_stop_the_terminal(
    simulator: SimulatorProcess, short_dir: Path
) -> None:
    path = simulator.events("ready")[0]["path"]
    config = BankTerminalConfig(backend="concert", url=path, currency=156, ack_timeout_s=0.3)
    with SimulatorClient(short_dir / "c.sock") as client:
        script = TerminalScript(client)
        script.timing(frame_timeout_s=0.1)
        with serial.serial_for_url(path) as noise:
            noise.write(b"\x00\xff garbage \x03\x99\x15\x04\x02 and half a frame")
        terminal = open_bank_terminal(config)
        try:
            result = asyncio.run(terminal.sale(100, new_transaction_id()))
        finally:
            asyncio.run(terminal.close())
        assert result.outcome is Outcome.APPROVED
        script.expect("frame_abandoned")


def test_sigterm_removes_the_link_and_the_socket(short_dir: Path) -> None:
    process = SimulatorProcess(
        SIMULATOR, "--control-socket", str(short_dir / "c.sock"), "--link", str(short_dir / "tty")
    )
    process.start()
    assert process.process is not None
    process.process.send_signal(signal.SIGTERM)
    assert process.process.wait(10) == 0
    assert not (short_dir / "tty").exists() and not (short_dir / "c.sock").exists()
    process.stop()
