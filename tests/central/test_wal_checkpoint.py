"""The WAL is copied back into the database beside the writer, not inside its commits."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from conftest import bare_context
from sqlalchemy import Connection, insert

from central.store import tables as t
from central.store.database import open_database
from central.writer.thread import WriterThread

WAIT_S = 5.0


def add_record(conn: Connection) -> str:
    row = {"at": datetime.now(UTC), "actor": "t", "action": "a", "reason": "r", "detail": "{}"}
    conn.execute(insert(t.audit).values(run_id=None, **row))
    return "done"


def test_the_wal_is_copied_back_beside_the_writer(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    writer = WriterThread(open_database(f"sqlite:///{db}"), bare_context(tmp_path))
    for _ in range(20):  # a few dozen WAL pages: far below any checkpoint of the writer's own
        assert writer.call(add_record) == "done"
    deadline = time.monotonic() + WAIT_S
    while _records_in_database_file(db) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _records_in_database_file(db) == 20
    writer.stop()


def _records_in_database_file(db: Path) -> int:
    """Rows the database file itself holds, the WAL left aside."""
    with sqlite3.connect(f"file:{db}?immutable=1", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM audit").fetchone()[0])
