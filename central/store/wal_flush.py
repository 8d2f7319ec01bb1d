"""Making a writer's commits durable off its path: one WAL flush for many batches.

A durable SQLite commit (``synchronous=FULL``) waits for the disk before the
writer may start its next transaction. The writer's own connection instead
commits with ``synchronous=NORMAL`` (the WAL is written, not yet flushed)
and hands the batch's answers to this flusher, whose thread flushes the WAL
file and only then lets the answers go. The writer runs the next batch
meanwhile, and one flush covers every batch committed before it began.

No answer leaves before its commit is on disk, so what a client was told
survives a power cut; what was committed but not yet flushed may be lost
with it, and nobody was told of it (a retry with the same Idempotency-Key
does it again). SQLite's WAL checksums make recovery stop at the first frame
that did not reach the disk, so a later batch never survives without an
earlier one. A process crash loses nothing committed: the WAL is in the
kernel's page cache. Checkpoints sync the WAL and the database themselves.

A failed flush leaves unknown what reached the disk. Its answers become
errors, and so does every later one: the owner must stop and let a restart
recover from what the disk holds.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)
Then = Callable[[BaseException | None], None]  # told None once durable, or the flush's error


class FlushFailed(OSError):
    """The WAL could not be flushed: what the disk holds is unknown until a restart."""


class WalFlusher:
    """Flushes an SQLite store's WAL in a thread; calls back once a commit is durable.

    For a store that makes each commit durable itself (PostgreSQL, an
    in-memory SQLite) there is nothing to flush and callbacks run at once.
    """

    def __init__(self, engine: Engine) -> None:
        self.wal_path = _wal_path(engine)
        self.failure: FlushFailed | None = None
        self._queue: queue.SimpleQueue[Then | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        if self.wal_path is not None:
            self._thread = threading.Thread(target=self._loop, name="wal-flusher", daemon=True)
            self._thread.start()

    @property
    def defers(self) -> bool:
        """True when the writer's commits wait for this flusher, not for the disk."""
        return self.wal_path is not None

    def prepare(self, dbapi_connection: Any) -> None:
        """Set the writer's own connection to commit without waiting for the disk."""
        if self.defers:
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    def after_flush(self, then: Then) -> None:
        """Call ``then`` once everything committed so far is on disk (from another thread)."""
        if self.failure is not None:
            then(self.failure)
        elif self._thread is None:
            then(None)
        else:
            self._queue.put(then)

    def close(self) -> None:
        """Flush what is waiting, answer it, and stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def flush(self) -> None:
        """Flush the WAL file to disk now (the flusher thread's work)."""
        if self.wal_path is None:
            return
        try:
            fd = os.open(self.wal_path, os.O_RDONLY)
        except FileNotFoundError:
            return  # no WAL: the last connection closed, and closing checkpointed and synced
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            waiting: list[Then] = []
            item = self._queue.get()
            while item is not None:
                waiting.append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            stopping = item is None
            if waiting:
                self._flush_and_tell(waiting)

    def _flush_and_tell(self, waiting: list[Then]) -> None:
        if self.failure is None:
            try:
                self.flush()
            except OSError as exc:
                log.critical("flushing the WAL failed (%s): the store must restart", exc)
                self.failure = FlushFailed(f"flushing the store's WAL failed: {exc}")
        for then in waiting:
            then(self.failure)


def _wal_path(engine: Engine) -> str | None:
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return f"{database}-wal"
