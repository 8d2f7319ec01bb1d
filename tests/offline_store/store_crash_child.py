"""What a child process runs: one store call that dies at a chosen moment, or a loop to kill.

The tests fork a child (a real process: its own SQLite connection, killed
like any other) that runs one of these. ``crash_once`` dies where ``point``
says:

- ``vm:N``: in the N-th SQLite virtual-machine step of the call (mid-batch);
- ``commit``: as the call's COMMIT begins (everything written, nothing committed);
- ``returned``: the moment the call returns, without closing anything.

``loop`` repeats a call, acknowledging each over a pipe, until the parent
SIGKILLs it wherever it happens to be; ``crash_in_migration`` opens the store
with a test-only second schema step that dies half way. Every death is
``os._exit``: no cleanup, no close, no atexit, as in a crash.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from store_crash_scenarios import LOOPS, SCENARIOS

from offline_store import MIGRATIONS, Migration, UnitStore

CRASH_EXIT = 86


def die() -> None:
    """Leave at once, as a crash would."""
    os._exit(CRASH_EXIT)


def die_at_step(store: UnitStore, step: int) -> None:
    """Arrange to die in the ``step``-th virtual-machine step from now."""
    counter = iter(range(step - 1))

    def tick() -> int:
        if next(counter, None) is None:
            die()
        return 0

    store.connection.set_progress_handler(tick, 1)


def die_at_commit(store: UnitStore) -> None:
    """Arrange to die as COMMIT starts."""
    store.connection.set_trace_callback(lambda sql: die() if sql.strip() == "COMMIT" else None)


def crash_once(name: str, path: Path, point: str) -> None:
    """Run the scenario's call once, dying where ``point`` says."""
    store = UnitStore.open(path)
    if point.startswith("vm:"):
        die_at_step(store, int(point[3:]))
    elif point == "commit":
        die_at_commit(store)
    SCENARIOS[name].operation(store)
    die()  # "returned", or a point that never came: the parent sees the state either way


def loop(name: str, path: Path, acks: Connection) -> None:
    """Repeat the call with rising numbers, acknowledging each once it returned, until killed."""
    store = UnitStore.open(path)
    call: Callable[[UnitStore, int], object] = LOOPS[name]
    for number in range(100_000):
        call(store, number)
        acks.send(number)
    die()


def crash_in_migration(path: Path) -> None:
    """Open with a second step that creates a table, then dies before committing."""

    def then(conn: object) -> None:
        die()

    step = Migration(
        len(MIGRATIONS) + 1, "test: extras", ("CREATE TABLE extras (id INTEGER PRIMARY KEY)",), then
    )
    UnitStore.open(path, migrations=(*MIGRATIONS, step))
