"""Fixtures for the card reader: a virtual reader slot of our own, the sim config, asyncio runs.

pcscd's vpcd driver gives this machine two virtual readers ("Virtual PCD 00
00" on port 35963, "00 01" on 35964), and one card can be in each. A test
that uses one holds a file lock on it for its whole run, so two pytest-xdist
workers never share a slot; every such test also holds a shared lock on
pcscd, which the one test that restarts pcscd takes exclusively. Where
pcscd cannot be started, these tests skip and say why.
"""

from __future__ import annotations

import contextlib
import fcntl
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from drivers.card_reader import CardReaderConfig, ensure_pcscd
from drivers.card_reader.pcsc import PcscSlot
from drivers.errors import DriverError

LOCK_DIR = Path(tempfile.gettempdir())
PCSCD_TESTS_LOCK = LOCK_DIR / "stationkit-pcscd-tests.lock"
SLOTS = (("Virtual PCD 00 00", 35963), ("Virtual PCD 00 01", 35964))
LOCK_WAIT_S = 240.0


@dataclass(frozen=True)
class VpcdSlot:
    """A virtual reader this test has to itself."""

    reader: str
    port: int


@contextlib.contextmanager
def file_lock(path: Path, mode: int, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold ``flock(mode)`` on ``path``, waiting up to ``wait_s`` for it."""
    with open(path, "ab") as handle:
        if not _try_lock(handle, mode, time.monotonic() + wait_s):
            pytest.fail(f"waited {wait_s} s for {path}")
        yield


def _try_lock(handle: IO[bytes], mode: int, deadline: float) -> bool:
    while True:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def pcscd_or_skip(reader: str) -> None:
    """Have pcscd list ``reader``, or skip the test with the reason."""
    try:
        ensure_pcscd(reader)
    except DriverError as exc:
        pytest.skip(f"pcscd with the virtual reader cannot run here: {exc.message}")


@pytest.fixture
def pcscd_shared() -> Iterator[None]:
    """pcscd stays as it is while the test runs (no test restarts it meanwhile)."""
    with file_lock(PCSCD_TESTS_LOCK, fcntl.LOCK_SH):
        yield


@pytest.fixture
def pcscd_alone() -> Iterator[VpcdSlot]:
    """pcscd to this test alone (no other card test runs meanwhile), and its first reader.

    For tests that stop pcscd; it runs again when they end.
    """
    with file_lock(PCSCD_TESTS_LOCK, fcntl.LOCK_EX):
        pcscd_or_skip(SLOTS[0][0])
        wait_for_empty_field(SLOTS[0][0])
        yield VpcdSlot(*SLOTS[0])
        pcscd_or_skip(SLOTS[0][0])


@pytest.fixture
def pcscd_running(pcscd_shared: None) -> list[str]:
    """pcscd runs with the virtual readers; the names of those it lists."""
    pcscd_or_skip(SLOTS[0][0])
    return [reader for reader, _ in SLOTS if is_listed(reader)]


@pytest.fixture
def vpcd_slot(pcscd_shared: None) -> Iterator[VpcdSlot]:
    """A virtual reader slot no other test uses until this one ends."""
    pcscd_or_skip(SLOTS[0][0])
    slots = [VpcdSlot(reader, port) for reader, port in SLOTS if is_listed(reader)]
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        for slot in slots:
            with open(LOCK_DIR / f"stationkit-vpcd-{slot.port}-tests.lock", "ab") as handle:
                if _try_lock(handle, fcntl.LOCK_EX, time.monotonic()):
                    wait_for_empty_field(slot.reader)
                    yield slot
                    return
        if time.monotonic() > deadline:
            pytest.fail("no virtual reader slot came free")
        time.sleep(0.1)


def wait_for_empty_field(reader: str, timeout_s: float = 5.0) -> None:
    """Wait until pcscd has seen the last test's card leave this reader.

    vpcd polls about every 400 ms: just after a card left, pcscd may still
    show it, and a new reader would take it for a card lying there.
    """
    slot = PcscSlot(reader)
    slot.attach()
    try:
        if slot.wait_for_card(0) is not None and not slot.wait_for_removal(timeout_s):
            pytest.fail(f"a card stays on {reader!r}: is a card emulator left running?")
    finally:
        slot.detach()


def is_listed(reader: str) -> bool:
    """Whether PC/SC lists exactly one reader matching ``reader``."""
    slot = PcscSlot(reader)
    try:
        slot.attach()
        return True
    except DriverError:
        return False
    finally:
        slot.detach()


@pytest.fixture
def sim_config(vpcd_slot: VpcdSlot, tmp_path: Path) -> CardReaderConfig:
    """The sim backend on this test's slot, steered over a socket in ``tmp_path``."""
    return CardReaderConfig(
        backend="sim",
        reader=vpcd_slot.reader,
        vpcd_port=vpcd_slot.port,
        control_socket=tmp_path / "card.sock",
    )
