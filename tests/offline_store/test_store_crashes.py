"""Crashes at the worst moments, in real processes: the store reopens consistent, loses nothing.

Each mutating call runs in a forked child process that dies (``os._exit``) in the
middle of its SQL, as its COMMIT begins, or the instant the call returns;
the store it leaves must equal, table by table, the state before the call
(nothing half-written) or, once the call returned, the state after it
(nothing acknowledged lost). Then children that feed pages or append
passages in a loop are SIGKILLed wherever they happen to be.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from store_crash_child import CRASH_EXIT, crash_in_migration, crash_once, loop
from store_crash_scenarios import PAGE, SCENARIOS, dump, passage_id
from store_samples import ticket

from offline_store import MIGRATIONS, UnitStore

pytestmark = pytest.mark.slow

FORK = multiprocessing.get_context("fork")  # a real process, started without re-importing


def run_child(target: Callable[..., None], *args: object) -> None:
    """Run ``target`` in a child process to its death and check it died on purpose."""
    process = FORK.Process(target=target, args=args)
    process.start()
    process.join(timeout=120)
    assert process.exitcode == CRASH_EXIT, f"child ended with {process.exitcode}"


def vm_steps(path: Path, name: str) -> int:
    """How many SQLite virtual-machine steps the scenario's call takes (on this copy)."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    with UnitStore.open(path) as store:
        store.connection.set_progress_handler(count, 1)
        SCENARIOS[name].operation(store)
    return steps


@pytest.fixture(scope="module")
def before_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store per module holding nothing but the schema, to copy from."""
    path = tmp_path_factory.mktemp("empty") / "gate.db"
    UnitStore.open(path).close()
    return path


def prepared(tmp_path: Path, name: str) -> Path:
    """A closed store in the scenario's starting state."""
    path = tmp_path / "before.db"
    with UnitStore.open(path) as store:
        SCENARIOS[name].setup(store)
    return path


def copy_of(source: Path, target: Path) -> Path:
    """A copy of a closed store (no log beside it)."""
    shutil.copyfile(source, target)
    return target


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_crash_inside_a_call_leaves_the_state_before_it(tmp_path: Path, name: str) -> None:
    original = prepared(tmp_path, name)
    before = dump(copy_of(original, tmp_path / "look.db"))
    reference = copy_of(original, tmp_path / "reference.db")
    steps = vm_steps(reference, name)
    after = dump(reference)
    assert after != before, "the scenario must change something"
    for point in (f"vm:{steps // 2}", "commit"):
        crashed = copy_of(original, tmp_path / f"{point.replace(':', '-')}.db")
        run_child(crash_once, name, crashed, point)
        assert dump(crashed) == before, point


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_crash_right_after_a_call_returns_keeps_all_of_it(tmp_path: Path, name: str) -> None:
    original = prepared(tmp_path, name)
    reference = copy_of(original, tmp_path / "reference.db")
    with UnitStore.open(reference) as store:
        SCENARIOS[name].operation(store)
    crashed = copy_of(original, tmp_path / "crashed.db")
    run_child(crash_once, name, crashed, "returned")
    assert dump(crashed) == dump(reference)


def kill_after_acks(path: Path, name: str, acks: int) -> int:
    """Run a looping child, SIGKILL it once it acknowledged ``acks`` calls; the last ack seen.

    The child runs on while the parent reads, so it may have finished more
    calls than acknowledged ones when the signal lands, or be inside one.
    """
    receiver, sender = FORK.Pipe(duplex=False)
    process = FORK.Process(target=loop, args=(name, path, sender))
    process.start()
    sender.close()
    last = -1
    try:
        while last + 1 < acks and receiver.poll(60):
            last = receiver.recv()
    finally:
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=60)
    assert process.exitcode == -signal.SIGKILL
    assert last + 1 == acks
    return last


@pytest.mark.parametrize("acks", [1, 4])
def test_sigkill_while_feeding_pages_keeps_whole_pages_and_their_cursor(
    tmp_path: Path, before_store: Path, acks: int
) -> None:
    path = copy_of(before_store, tmp_path / "gate.db")
    last = kill_after_acks(path, "feed_pages", acks)
    with UnitStore.open(path) as store:
        pages = store.cursors.get_int("station_feed")
        assert pages >= last + 1  # every acknowledged page, perhaps more
        assert store.tickets.count() == pages * PAGE
        for number in (0, pages * PAGE - 1):
            assert store.tickets.get(ticket(number).ticket_id) is not None
        assert store.tickets.get(ticket(pages * PAGE).ticket_id) is None
        count = store.connection.execute("SELECT count(*) FROM revocations").fetchone()
        assert count == (pages,)


@pytest.mark.parametrize("acks", [1, 25])
def test_sigkill_while_appending_keeps_every_acknowledged_passage_once(
    tmp_path: Path, before_store: Path, acks: int
) -> None:
    path = copy_of(before_store, tmp_path / "gate.db")
    last = kill_after_acks(path, "appends", acks)
    with UnitStore.open(path) as store:
        conn: sqlite3.Connection = store.connection
        ids = [row[0] for row in conn.execute("SELECT passage_id FROM passages ORDER BY seq")]
        assert len(ids) >= last + 1
        assert ids == [passage_id(number) for number in range(len(ids))]
        (counted,) = conn.execute("SELECT sum(count) FROM passage_counts").fetchone()
        assert counted == len(ids)
        assert len(store.journal.pending(limit=1000)) == len(ids)


def test_a_crash_during_a_migration_keeps_the_old_version(
    tmp_path: Path, before_store: Path
) -> None:
    path = copy_of(before_store, tmp_path / "gate.db")
    run_child(crash_in_migration, path)
    with UnitStore.open(path) as store:
        conn = store.connection
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
        assert "extras" not in tables
