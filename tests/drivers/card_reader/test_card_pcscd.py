"""pcscd coming and going: ensure_pcscd started twice at once, and a reader lost and found.

These tests stop pcscd, so each holds the pcscd lock exclusively (no other
card test runs meanwhile), and each stops only a pcscd that StationKit's
``ensure_pcscd`` started (its pid is recorded); a system daemon is left
alone and the test skips.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.card_reader import CardReaderConfig, CardTap, ensure_pcscd, open_card_reader
from drivers.card_reader.pcscd import started_pcscd_pid
from drivers.errors import DriverErrorCode
from drivers.sim.control import SimulatorClient

from .conftest import VpcdSlot
from .scenario import run

PCSCD_PID_FILE = Path("/run/pcscd/pcscd.pid")
WAIT_S = 15.0


def running_pcscd_pid() -> int | None:
    """The pid pcscd wrote for itself, if it runs."""
    try:
        pid = int(PCSCD_PID_FILE.read_bytes().strip(b"\x00\n "))
    except (OSError, ValueError):
        return None
    return pid if _is_live_pcscd(pid) else None


def _is_live_pcscd(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return "(pcscd)" in stat and stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop_our_pcscd() -> None:
    """Stop pcscd if StationKit started it; skip the test if someone else did."""
    pid = running_pcscd_pid()
    if pid is None:
        return
    if pid != started_pcscd_pid():
        pytest.skip(f"pcscd (pid {pid}) was not started by ensure_pcscd: not stopping it")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + WAIT_S
    while _is_live_pcscd(pid):
        assert time.monotonic() < deadline, f"pcscd {pid} did not stop"
        time.sleep(0.05)


ENSURE_SCRIPT = """
import sys
from drivers.card_reader import ensure_pcscd
print(ensure_pcscd(sys.argv[1]))
"""


def test_two_processes_ensuring_pcscd_at_once_start_one(pcscd_alone: VpcdSlot) -> None:
    stop_our_pcscd()
    command = [sys.executable, "-c", ENSURE_SCRIPT, pcscd_alone.reader]
    env = {**os.environ, "PYTHONPATH": "."}
    callers = [subprocess.Popen(command, stdout=subprocess.PIPE, env=env) for _ in range(2)]
    answers = sorted(caller.communicate(timeout=60)[0].decode().strip() for caller in callers)
    assert answers == ["False", "True"]
    assert running_pcscd_pid() == started_pcscd_pid()


def test_a_reader_lost_with_pcscd_shows_in_health_and_comes_back(
    pcscd_alone: VpcdSlot, tmp_path: Path
) -> None:
    config = CardReaderConfig(
        backend="sim",
        reader=pcscd_alone.reader,
        vpcd_port=pcscd_alone.port,
        control_socket=tmp_path / "card.sock",
        reconnect_interval_s=0.2,
    )

    async def until(condition: Callable[[], bool], what: str) -> None:
        deadline = asyncio.get_running_loop().time() + WAIT_S
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, what
            await asyncio.sleep(0.05)

    async def scenario() -> None:
        async with await open_card_reader(config) as reader:
            stop_our_pcscd()
            await until(lambda: not reader.health().reader_present, "the loss is not reported")
            lost = reader.health()
            await asyncio.to_thread(ensure_pcscd, pcscd_alone.reader)
            await until(lambda: reader.health().reader_present, "the reader did not come back")
            with SimulatorClient(tmp_path / "card.sock") as client:
                client.send("insert", id_number="11010519491231002X", name="王五")
                client.expect("inserted")
                tap = await asyncio.wait_for(reader.next_tap(), 10)
                client.send("remove")
                client.expect("removed")
        assert lost.last_error_code is DriverErrorCode.UNAVAILABLE
        assert lost.last_error is not None and "PC/SC" in lost.last_error
        assert isinstance(tap, CardTap) and tap.name == "王五"

    run(scenario())
