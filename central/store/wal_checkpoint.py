"""Copying the WAL back into the database beside the writer, not inside its commits.

SQLite checkpoints a WAL from inside the commit that makes it long enough:
the writer stops for the copy and two disk flushes, and every request
waiting on it waits too. This checkpointer copies the WAL from a thread and
connection of its own, a little at a time while the writer goes on (a
passive checkpoint never blocks a writer). The writer keeps SQLite's own
checkpoint at a higher mark as a backstop: when it comes, little is left to
copy, and it lets the WAL start over from the beginning.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)
INTERVAL_S = 0.05  # at most this often: each copy is small, and the WAL stays short
WRITER_CHECKPOINT_PAGES = 4000  # the writer's own checkpoint (SQLite's default is 1,000)


class WalCheckpointer:
    """Runs passive checkpoints of an SQLite store after commits, in a thread."""

    def __init__(self, engine: Engine, interval_s: float = INTERVAL_S) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self._enabled = _has_wal(engine)
        self._committed = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        if self._enabled:
            self._thread = threading.Thread(target=self._loop, name="wal-checkpoint", daemon=True)
            self._thread.start()

    def prepare(self, dbapi_connection: Any) -> None:
        """Move the writer connection's own checkpoint to the backstop mark."""
        if self._enabled:
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_PAGES}")

    def nudge(self) -> None:
        """A batch committed: the WAL has grown."""
        self._committed.set()

    def close(self) -> None:
        """Stop the thread (the writer's connection checkpoints when it closes)."""
        if self._thread is not None:
            self._stopping.set()
            self._committed.set()
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        raw = self.engine.raw_connection()
        try:
            while not self._stopping.is_set():
                self._committed.wait()
                self._committed.clear()
                if self._stopping.is_set():
                    return
                self._checkpoint(raw)
                self._stopping.wait(self.interval_s)
        finally:
            raw.close()

    def _checkpoint(self, raw: Any) -> None:
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except Exception:  # a failed copy leaves the WAL whole: the backstop will copy it
            log.exception("background WAL checkpoint failed")


def _has_wal(engine: Engine) -> bool:
    database = engine.url.database
    return engine.dialect.name == "sqlite" and bool(database) and database != ":memory:"
