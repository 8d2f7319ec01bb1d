"""Train runs as the read path sees them: timetables, and inventories caught up by version.

Readers keep their own copy of each inventory, apart from the writer's
(which it changes in place inside transactions that may still roll back).
Before a query uses a run, its version row is read (no lock): if the store
is newer, only the seat and standing rows written since are read back, or
the run is reloaded whole after a quota change. A read is therefore exact
as of the snapshot its connection sees, and two queries on one run take
turns on that run's copy for the microseconds they need.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from datetime import date

from sqlalchemy import Connection, select

from central.store import fastsql
from central.store import tables as t
from central.store.runs import (
    READ_VERSIONS,
    LoadedRun,
    UnknownTrain,
    catch_up,
    find_run_id,
    load_run,
)
from central.timetable import RunInfo
from protocol.timetable import TrainRunSpec


class RunReader:
    """Run ids, timetables and caught-up inventories for queries (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[tuple[str, date], int] = {}
        self._infos: dict[int, RunInfo] = {}
        self._runs: dict[int, LoadedRun] = {}
        self._run_locks: dict[int, threading.Lock] = {}

    def run_id(self, conn: Connection, train: str, service_date: date) -> int:
        """The run id of a train on a date, or ``UnknownTrain``."""
        key = (train, service_date)
        found = self._ids.get(key)
        if found is None:
            found = find_run_id(conn, train, service_date)
            if found is None:
                raise UnknownTrain(f"train {train} does not run on {service_date}")
            self._ids[key] = found
        return found

    def info(self, conn: Connection, run_id: int) -> RunInfo:
        """A run's timetable (it never changes once loaded)."""
        info = self._infos.get(run_id)
        if info is None:
            spec = conn.execute(
                select(t.train_runs.c.spec).where(t.train_runs.c.run_id == run_id)
            ).scalar()
            if spec is None:
                raise UnknownTrain(f"no train run {run_id}")
            info = self._infos.setdefault(run_id, RunInfo(TrainRunSpec.model_validate_json(spec)))
        return info

    @contextlib.contextmanager
    def inventory(self, conn: Connection, run_id: int) -> Iterator[LoadedRun]:
        """The run's inventory as of ``conn``'s snapshot, held for this read only."""
        with self._run_lock(run_id):
            versions = fastsql.fetch_one(conn, READ_VERSIONS, {"run_id": run_id})
            if versions is None:
                raise UnknownTrain(f"no train run {run_id}")
            run = self._runs.get(run_id)
            if run is None:
                run = load_run(conn, run_id)
                gc.freeze()  # a loaded inventory lives for hours: keep it out of the collector
            else:
                run = catch_up(conn, run, int(versions[0]), int(versions[1]))
            self._runs[run_id] = run
            self._infos.setdefault(run_id, run.info)
            yield run

    def _run_lock(self, run_id: int) -> threading.Lock:
        with self._lock:
            return self._run_locks.setdefault(run_id, threading.Lock())
