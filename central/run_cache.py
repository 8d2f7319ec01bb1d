"""This process's cache of train-run inventories.

Only the writer thread changes the cache (inside its transaction); readers
take the lock and read. A reader that finds another process has committed a
newer version asks the writer to catch up first, so availability is exact
as of the last commit it saw.
"""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import Connection

from central.store.runs import LoadedRun, UnknownTrain, catch_up, find_run_id, load_run, lock_run


class RunCache:
    """Loaded runs by id, and run ids by (train, date)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
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
        """Lock the run's row and return its inventory, caught up with the store."""
        version, quota_version = lock_run(conn, run_id)
        with self.lock:
            cached = self._runs.get(run_id)
            run = load_run(conn, run_id) if cached is None else cached
            run = catch_up(conn, run, version, quota_version)
            self._runs[run_id] = run
            return run

    def cached(self, run_id: int) -> LoadedRun | None:
        """The run as last loaded by this process, if it is."""
        return self._runs.get(run_id)

    def forget_all(self) -> None:
        """Drop every cached inventory (after a failed transaction)."""
        with self.lock:
            self._runs.clear()
