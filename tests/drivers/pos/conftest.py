"""Fixtures for the bank terminal tests: the simulator backend over a real pty, and its script.

Set ``STATIONKIT_POS_DEVICE`` to a real terminal's serial line (and
optionally ``STATIONKIT_POS_CURRENCY``, default 156) to run the contract
tests that need no script against it; a person presents the card.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.pos.config import BankTerminalConfig, open_bank_terminal
from drivers.pos.simulator.steering import TerminalScript
from drivers.pos.terminal import BankTerminal
from drivers.sim.control import SimulatorClient

DEVICE_ENV = "STATIONKIT_POS_DEVICE"
CURRENCY = 156
SIM_ACK_TIMEOUT_S = 0.3  # the simulator gives up on a register that does not ACK after 3 x this


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short private directory (a Unix socket path must stay under 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="pos-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sim_config(short_dir: Path) -> BankTerminalConfig:
    """A sim backend with a control socket and timeouts short enough for a quick suite."""
    return BankTerminalConfig(
        backend="sim",
        currency=CURRENCY,
        control_socket=str(short_dir / "pos.sock"),
        ack_timeout_s=0.3,
        frame_timeout_s=1.0,
        answer_timeout_s=1.0,
    )


@pytest.fixture
def simulated(
    sim_config: BankTerminalConfig,
) -> Iterator[tuple[BankTerminal, TerminalScript]]:
    """A BankTerminal on the simulator backend, and the script of that simulator."""
    terminal = open_bank_terminal(sim_config)
    assert sim_config.control_socket is not None
    client = SimulatorClient(Path(sim_config.control_socket))
    script = TerminalScript(client)
    try:
        script.timing(ack_timeout_s=SIM_ACK_TIMEOUT_S)
        yield terminal, script
    finally:
        client.close()
        asyncio.run(terminal.close())


@pytest.fixture
def device_terminal() -> Iterator[BankTerminal]:
    """A BankTerminal on the real terminal named by STATIONKIT_POS_DEVICE (skipped without)."""
    url = os.environ.get(DEVICE_ENV)
    if not url:
        pytest.skip(f"no real terminal: set {DEVICE_ENV} to its serial line")
    currency = int(os.environ.get("STATIONKIT_POS_CURRENCY", CURRENCY))
    terminal = open_bank_terminal(BankTerminalConfig(backend="concert", url=url, currency=currency))
    try:
        yield terminal
    finally:
        asyncio.run(terminal.close())
