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
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from drivers.pos.config import BankTerminalConfig, open_bank_terminal
from drivers.pos.terminal import BankTerminal
from drivers.sim.control import Message, SimulatorClient

T = TypeVar("T")
DEVICE_ENV = "STATIONKIT_POS_DEVICE"
CURRENCY = 156
# short enough to keep the suite quick, long enough for a loaded two-core machine
FAST = {"ack_timeout_s": 0.3, "frame_timeout_s": 1.0, "answer_timeout_s": 1.0}
SIM_ACK_TIMEOUT_S = 0.3  # the simulator gives up on a register that does not ACK after 3 x this


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine on a fresh event loop (no async plugin needed)."""
    return asyncio.run(coroutine)


class Script:
    """Steers the simulator a terminal started for itself; each command waits for its echo."""

    def __init__(self, client: SimulatorClient) -> None:
        self.client = client

    def next(self, outcome: str, **fields: Any) -> None:
        """Queue the next transaction's outcome."""
        self._command("next", "scripted", outcome=outcome, **fields)

    def card(self, masked: str, acquirer: str = "SIM-ACQUIRER") -> Message:
        """The card of the next approvals."""
        return self._command("card", "card_set", masked=masked, acquirer=acquirer)

    def faults(self, **counts: int) -> None:
        """NAK the register's frames / corrupt our own, the next n times."""
        self._command("faults", "faults_set", **counts)

    def totals(self) -> dict[str, int]:
        """The simulator's own totals."""
        event = self._command("totals", "totals")
        return {key: value for key, value in event.items() if key != "event"}

    def journal(self) -> list[dict[str, Any]]:
        """The simulator's journal."""
        entries: list[dict[str, Any]] = self._command("journal", "journal")["entries"]
        return entries

    def expect(self, event: str, timeout: float = 10.0, **fields: Any) -> Message:
        """Wait for an event whose fields include ``fields``."""
        return self.client.expect(
            event, timeout, where=lambda e: all(e.get(k) == v for k, v in fields.items())
        )

    def _command(self, command: str, echo: str, **fields: Any) -> Message:
        self.client.send(command, **fields)
        return self.client.expect(echo, timeout=10.0)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short private directory (a Unix socket path must stay under 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="pos-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sim_config(short_dir: Path) -> BankTerminalConfig:
    """A sim backend with short timeouts and a control socket."""
    socket_path = str(short_dir / "pos.sock")
    return BankTerminalConfig(backend="sim", currency=CURRENCY, control_socket=socket_path, **FAST)


@pytest.fixture
def simulated(sim_config: BankTerminalConfig) -> Iterator[tuple[BankTerminal, Script]]:
    """A BankTerminal on the simulator backend, and the script of that simulator."""
    terminal = open_bank_terminal(sim_config)
    assert sim_config.control_socket is not None
    client = SimulatorClient(Path(sim_config.control_socket))
    client.send("timing", ack_timeout_s=SIM_ACK_TIMEOUT_S)
    client.expect("timing_set")
    try:
        yield terminal, Script(client)
    finally:
        client.close()
        run(terminal.close())


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
        run(terminal.close())
