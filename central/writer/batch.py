"""Group commit: a batch of commands in one transaction, one durable commit for all.

A durable commit per batch instead of per sale is what lets one SQLite file
take thousands of sales per second; an answer is never given before its
commit. A command's business error keeps what the command did on purpose
before refusing; any other error (a bug, a failed commit) rolls the batch
back, drops the cached inventories and runs the batch's commands again one
per transaction, so only the failing command fails. Both writers use it: the
thread of an HTTP process (``central.writer.thread``) and the writer process
(``central.writer.server``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from central.store.run_cache import RunCache
from central.store.wal_checkpoint import WalCheckpointer
from protocol.errors import StationKitError

Step = Callable[[Connection], Any]
Result = tuple[Any, BaseException | None]  # a step's result, or its business error
log = logging.getLogger(__name__)


class BatchRunner:
    """Runs a batch of commands in one transaction on the store; one commit for all."""

    def __init__(self, engine: Engine, cache: RunCache) -> None:
        self.engine = engine
        self.cache = cache
        self.checkpointer = WalCheckpointer(engine)
        self._lock_fd = _writer_lock_file(engine)
        self._conn: Connection | None = None  # kept between batches: no pool round trip

    def run(self, commands: Sequence[Step]) -> list[Result]:
        """Each command's result or business error, in order, after the commit."""
        try:
            conn = self._connection()
            with self._store_lock(), conn.begin():
                self.cache.begin(conn)
                results = [self._run_one(conn, command) for command in commands]
        except Exception as exc:  # a command crashed, or the commit or connection failed
            self._drop_connection()  # the next batch starts on a fresh one
            self.cache.forget_all()  # the inventories may hold what was rolled back
            if len(commands) > 1:
                return [self.run([command])[0] for command in commands]
            log.exception("store transaction failed")
            return [(None, exc)]
        self.checkpointer.nudge()
        return results

    def close(self) -> None:
        """Let go of the connection, the checkpointer and the store's lock file."""
        self.checkpointer.close()
        self._drop_connection()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect()
            self.checkpointer.prepare(self._conn.connection.driver_connection)
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # it may be what failed
                self._conn.close()
            self._conn = None

    @contextlib.contextmanager
    def _store_lock(self) -> Iterator[None]:
        """Writers of several processes on one SQLite file take turns through a file lock.

        SQLite's own busy handler sleeps and polls, so a waiting process can
        starve for seconds; a blocking ``flock`` hands the store over at once.
        """
        if self._lock_fd is None:
            yield
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @staticmethod
    def _run_one(conn: Connection, command: Step) -> Result:
        try:
            return command(conn), None
        except StationKitError as exc:
            # A business refusal: commands refuse before changing anything, except
            # what they change on purpose first (an expired hold gives its seats back).
            return None, exc


def _writer_lock_file(engine: Engine) -> int | None:
    """The lock file beside an SQLite store (PostgreSQL locks rows instead)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return None
    return os.open(f"{database}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
