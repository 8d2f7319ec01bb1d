"""This process's cache of train-run inventories, for its writer.

Only the writer (a thread, or the writer process) uses the cache, inside its
transaction: a run is locked and caught up with the store before a command
uses it. Queries keep inventories of their own (``central.reads``).
"""

from __future__ import annotations

import gc
from datetime import date

from sqlalchemy import Connection

from central.store.runs import (
    TOUCHED_RUNS,
    LoadedRun,
    UnknownTrain,
    catch_up,
    find_run_id,
    load_run,
    lock_run,
)

LOCKED_RUNS = "stationkit_locked_runs"  # conn.info key: runs locked by this transaction


class RunCache:
    """Loaded runs by id, and run ids by (train, date)."""

    def __init__(self) -> None:
        self._runs: dict[int, LoadedRun] = {}
        self._ids: dict[tuple[str, date], int] = {}

    def run_id(self, conn: Connection, train: str, service_date: date) -> int:
        """The run id of a train on a date, or ``UnknownTrain``."""
        key = (train, service_date)
        cached = self._ids.get(key)
        if cached is not None:
            return cached
        found = find_run_id(conn, train, service_date)
        if found is None:
            raise UnknownTrain(f"train {train} does not run on {service_date}")
        self._ids[key] = found
        return found

    def for_write(self, conn: Connection, run_id: int) -> LoadedRun:
        """Lock the run's row and return its inventory, caught up with the store.

        Within one transaction a run is locked and caught up once: the lock
        is held to the commit, so nobody else can have written it since.
        """
        locked: set[int] = conn.info.setdefault(LOCKED_RUNS, set())
        cached = self._runs.get(run_id)
        if run_id in locked and cached is not None:
            return cached
        version, quota_version = lock_run(conn, run_id)
        run = load_run(conn, run_id) if cached is None else cached
        if run is not cached:
            # A loaded inventory lives for hours: keep its many objects out of the
            # cyclic collector's scans, whose pauses would stall every sale.
            gc.freeze()
        run = catch_up(conn, run, version, quota_version)
        self._runs[run_id] = run
        locked.add(run_id)
        return run

    @staticmethod
    def begin(conn: Connection) -> None:
        """Forget per-transaction marks: a new transaction locks runs afresh."""
        conn.info.pop(LOCKED_RUNS, None)
        conn.info.pop(TOUCHED_RUNS, None)

    def cached(self, run_id: int) -> LoadedRun | None:
        """The run as last loaded by this process, if it is."""
        return self._runs.get(run_id)

    def forget_all(self) -> None:
        """Drop every cached inventory: after a failure they may hold what was rolled back."""
        self._runs.clear()
