"""One writer thread per process: commands run in batches, one commit per batch.

Group commit: a command waits in a queue; the writer takes every command
waiting (up to the batch size), runs them in one transaction, commits once,
and only then answers them all. A durable commit
per batch instead of per sale is what lets one SQLite file take thousands of
sales per second; an answer is never given before its commit. A command's
business error keeps what the command did on purpose before refusing; any
other error (a bug, a failed commit) rolls the batch back, drops the cached
inventories and runs the batch's commands again one per transaction, so only
the failing command fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from central.run_cache import RunCache
from central.store.wal_checkpoint import WalCheckpointer
from protocol.errors import StationKitError

T = TypeVar("T")
Command = Callable[[Connection], Any]
log = logging.getLogger(__name__)


@dataclass
class _Job:
    command: Command
    future: Future[Any] | asyncio.Future[Any] = field(default_factory=Future)
    loop: asyncio.AbstractEventLoop | None = None  # set for jobs awaited from async code


Outcome = tuple[_Job, Any, BaseException | None]
Result = tuple[Any, BaseException | None]  # a command's result, or its business error


class BatchRunner:
    """Runs a batch of commands in one transaction on the store; one commit for all."""

    def __init__(self, engine: Engine, cache: RunCache) -> None:
        self.engine = engine
        self.cache = cache
        self.checkpointer = WalCheckpointer(engine)
        self._lock_fd = _writer_lock_file(engine)
        self._conn: Connection | None = None  # kept between batches: no pool round trip

    def run(self, commands: Sequence[Command]) -> list[Result]:
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
    def _run_one(conn: Connection, command: Command) -> Result:
        try:
            return command(conn), None
        except StationKitError as exc:
            # A business refusal: commands refuse before changing anything, except
            # what they change on purpose first (an expired hold gives its seats back).
            return None, exc


class Writer:
    """Runs commands against the store from a thread of its own, serially, with group commit."""

    def __init__(self, engine: Engine, cache: RunCache, batch_max: int = 64) -> None:
        self.engine = engine
        self.cache = cache
        self.batch_max = batch_max
        self._runner = BatchRunner(engine, cache)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="central-writer", daemon=True)
        self._thread.start()

    def submit(self, command: Callable[[Connection], T]) -> Future[T]:
        """Queue a command; the future resolves after its batch commits."""
        future: Future[T] = Future()
        self._queue.put(_Job(command, future))
        return future

    async def run(self, command: Callable[[Connection], T]) -> T:
        """Run a command from async code and wait for its durable result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(command, future, loop))
        return await future

    def call(self, command: Callable[[Connection], T]) -> T:
        """Run a command from a plain thread and wait for it."""
        return self.submit(command).result()

    def close(self) -> None:
        """Finish what is queued and stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=30)
        self._runner.close()

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch = [job]
            while len(batch) < self.batch_max:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            results = self._runner.run([job.command for job in batch])
            _settle([(job, *result) for job, result in zip(batch, results, strict=True)])


def _writer_lock_file(engine: Engine) -> int | None:
    """The lock file beside an SQLite store (PostgreSQL locks rows instead)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return None
    return os.open(f"{database}.writer-lock", os.O_RDWR | os.O_CREAT, 0o600)


def _settle(outcomes: list[Outcome]) -> None:
    """Answer a batch: one wake-up per event loop, not one per command."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        loop = outcome[0].loop
        if loop is None:
            _resolve([outcome])
        else:
            by_loop.setdefault(loop, []).append(outcome)
    for loop, waiting in by_loop.items():
        loop.call_soon_threadsafe(_resolve, waiting)


def _resolve(outcomes: list[Outcome]) -> None:
    for job, result, error in outcomes:
        if job.future.cancelled():  # the client went away; the work is done all the same
            continue
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)
