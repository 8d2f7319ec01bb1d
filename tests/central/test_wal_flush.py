"""Answers wait for the disk: a commit is told only once the WAL flush covering it is done.

The flusher is driven through the writer thread and the writer process as
they run in production; only the flush itself is held back or made to fail
(a disk error cannot be had on demand otherwise).
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, insert, select

from central.frames import FrameReader, encode
from central.run_cache import RunCache
from central.settings import CentralSettings
from central.store import tables as t
from central.store.database import open_database
from central.store.wal_flush import WalFlusher
from central.writer import Writer
from central.writer_server import WriterServer
from protocol.errors import ErrorCode, StationKitError

WAIT_S = 5.0


def add_record(conn: Connection) -> str:
    row = {"at": datetime.now(UTC), "actor": "t", "action": "a", "reason": "r", "detail": "{}"}
    conn.execute(insert(t.audit).values(run_id=None, **row))
    return "done"


@pytest.fixture
def held_flush(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every WAL flush waits until the test sets the event (then flushes for real)."""
    release = threading.Event()
    real_flush = WalFlusher.flush

    def slow_flush(self: WalFlusher) -> None:
        release.wait(WAIT_S)
        real_flush(self)

    monkeypatch.setattr(WalFlusher, "flush", slow_flush)
    yield release
    release.set()


@pytest.fixture
def failing_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_disk(self: WalFlusher) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(WalFlusher, "flush", broken_disk)


def count_records(url: str) -> int:
    engine = open_database(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(t.audit)).scalar_one()
    engine.dispose()
    return int(count)


def test_the_answer_waits_for_the_flush_not_the_next_batch(
    tmp_path: Path, held_flush: threading.Event
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    writer = Writer(open_database(url), RunCache())
    first = writer.submit(add_record)
    time.sleep(0.3)
    assert not first.done()  # committed, not yet on disk: no answer
    assert count_records(url) == 1  # ... but the writer went on: the commit is there
    second = writer.submit(add_record)
    assert _finishes_while_waiting(writer.submit(lambda conn: "later")) is False
    held_flush.set()
    assert first.result(WAIT_S) == "done" and second.result(WAIT_S) == "done"
    writer.close()


def test_a_failed_flush_answers_store_busy_from_then_on(
    tmp_path: Path, failing_flush: None
) -> None:
    writer = Writer(open_database(f"sqlite:///{tmp_path / 'w.db'}"), RunCache())
    for _ in range(2):  # the failed one, and every one after it
        with pytest.raises(StationKitError) as refused:
            writer.call(add_record)
        assert refused.value.code == ErrorCode.STORE_BUSY
        assert "Idempotency-Key" in refused.value.message
    writer.close()


def test_a_store_without_a_wal_file_answers_at_commit() -> None:
    flusher = WalFlusher(open_database("sqlite://"))  # in memory: nothing to flush
    told: list[BaseException | None] = []
    flusher.after_flush(told.append)
    assert not flusher.defers and told == [None]  # at once, on the caller's thread
    flusher.close()


def test_the_writer_process_answers_after_the_flush_and_stops_when_it_fails(
    tmp_path: Path, failing_flush: None
) -> None:
    settings = CentralSettings(
        database_url=f"sqlite:///{tmp_path / 'w.db'}",
        operator_token="t" * 24,
        keys_dir=str(tmp_path / "keys"),
        housekeeping_seconds=3600,
    )
    server = WriterServer(settings, tmp_path / "writer.sock")
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    reply = _ask(tmp_path / "writer.sock", {"id": 7, "name": "order", "args": {"order_id": "x"}})
    assert reply == {"id": 7, "error": {"code": "store_busy", "message": reply["error"]["message"]}}
    serving.join(WAIT_S)
    assert not serving.is_alive()  # it stopped: a restart recovers from what the disk holds


def _finishes_while_waiting(future: Any) -> bool:
    time.sleep(0.3)
    return bool(future.done())


def _ask(path: Path, message: dict[str, Any]) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(WAIT_S)
        sock.connect(str(path))
        sock.sendall(encode(message))
        reader = FrameReader()
        while True:
            replies = reader.feed(sock.recv(65536))
            if replies:
                reply: dict[str, Any] = replies[0]
                return reply


def test_the_wal_is_copied_back_beside_the_writer(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    writer = Writer(open_database(f"sqlite:///{db}"), RunCache())
    for _ in range(20):  # a few dozen WAL pages: far below any checkpoint of the writer's own
        writer.call(add_record)
    deadline = time.monotonic() + WAIT_S
    while _records_in_database_file(db) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _records_in_database_file(db) == 20
    writer.close()


def _records_in_database_file(db: Path) -> int:
    """Rows the database file itself holds, the WAL left aside."""
    with sqlite3.connect(f"file:{db}?immutable=1", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM audit").fetchone()[0])
