"""Nothing slow runs on the gate's decision thread: no health report, no SQLite checkpoint.

A gate built by its composition root on simulated hardware is asked for its
health while its decision thread is held busy (as it is while a passenger's
ticket is checked and journaled): the report still comes, its store reads
(counting a cache of millions of tickets takes a tenth of a second or more)
done on the sync task's thread. The decision connection never copies
SQLite's write-ahead log into the store file inside a commit (a passenger
would wait for it): the sync task does, every round, offline too, so the
log stays short however many passages the gate journals.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.gate.unit import DIRECTION_FACT, GROUP_FACT, build_gate
from device.profile import GateProfile, load_gate_profile
from offline_store import Direction, NewPassage, PassageKind, UnitMode
from offline_store.store import UnitStore
from offline_store.unit_state import DeviceIdentity
from protocol.ids import StationCode
from stationkit.processes import free_port

pytestmark = pytest.mark.anyio
HELD_S = 30.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def folder() -> Iterator[Path]:
    """A short private directory: Unix socket paths are limited to 107 bytes."""
    with tempfile.TemporaryDirectory(prefix="skh-") as path:
        yield Path(path)


def enrolled_profile(folder: Path) -> GateProfile:
    """A simulated entry gate at AAA, enrolled with a central that is not there."""
    profile = folder / "gate.toml"
    profile.write_text(f"""
[unit]
kind = "gate"
central_url = "http://127.0.0.1:9"
store = "{folder / "unit.db"}"

[mechanism]
backend = "sim"
relay_active_high = false
buzzer = 22
control_socket = "{folder / "mechanism.sock"}"
entry = {{ flap_relay = 17, passage_sensor = 27, lamps = {{ green = 5, red = 6 }} }}
exit = {{ flap_relay = 23, passage_sensor = 24, lamps = {{ green = 13, red = 19 }} }}

[entry.scanner]
backend = "sim"
control_socket = "{folder / "scanner.sock"}"
""")
    now = dt.datetime.now(dt.UTC)
    central = f"http://127.0.0.1:{free_port()}"
    identity = DeviceIdentity("gate-health", "gate", StationCode("AAA"), central, "secret", now)
    with UnitStore.open(folder / "unit.db") as store, store.transaction():
        store.enrolment.replace(identity)
        store.state.set_fact(GROUP_FACT, "")
        store.state.set_fact(DIRECTION_FACT, "entry")
    return load_gate_profile(profile)


async def test_health_comes_while_the_decision_thread_is_busy(folder: Path) -> None:
    gate = await build_gate(enrolled_profile(folder))
    release = threading.Event()
    held = asyncio.ensure_future(gate.runtime.decisions.run(lambda _: release.wait(HELD_S)))
    try:
        report = await asyncio.wait_for(gate.runtime.health(), timeout=HELD_S / 2)
        assert not held.done()  # the decision thread was busy all along
        assert (report["journal_pending"], report["tickets_cached"]) == (0, 0)
        assert report["mode"] == "in_service"
    finally:
        release.set()
        await held
        await gate.close()


async def test_the_sync_task_not_the_decision_thread_keeps_the_log_short(folder: Path) -> None:
    gate = await build_gate(enrolled_profile(folder))
    decisions, sync = gate.runtime.decisions, gate.runtime.sync
    try:
        autocheckpoint = await decisions.run(lambda store: pragma(store, "wal_autocheckpoint"))
        assert autocheckpoint == 0
        for _ in range(200):
            await decisions.run(journal_refusal)
        syncing = asyncio.create_task(sync.run())
        while sync.state.failures < 2:  # two rounds without central: one checkpoint at least
            await asyncio.sleep(0.01)
        syncing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await syncing
        await decisions.run(journal_refusal)  # starts the log again, if it was copied
        assert log_frames(folder / "unit.db") < 50
    finally:
        await gate.close()


def pragma(store: UnitStore, name: str) -> int:
    return int(store.connection.execute(f"PRAGMA {name}").fetchone()[0])


def journal_refusal(store: UnitStore) -> None:
    now = dt.datetime.now(dt.UTC)
    store.journal.append(
        NewPassage(Direction.ENTRY, PassageKind.REFUSED, "malformed", now, UnitMode.IN_SERVICE)
    )


def log_frames(path: Path) -> int:
    """The frames in the store's write-ahead log (the look copies them into the file)."""
    conn = sqlite3.connect(path)
    try:
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()
    return int(frames)
