"""The group-commit writer: one failing command never takes its batch down.

A crash rolls its command back; a business refusal keeps what the command did
on purpose before refusing (as an expired hold giving its seats back).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import bare_context
from sqlalchemy import Connection, func, insert, select

from central.store import tables as t
from central.store.database import open_database
from central.writer.thread import WriterThread
from protocol.errors import ErrorCode, StationKitError


def add_record(action: str) -> Callable[[Connection], str]:
    def command(conn: Connection) -> str:
        conn.execute(
            insert(t.audit).values(
                at=datetime.now(UTC),
                actor="test",
                action=action,
                run_id=None,
                reason="r",
                detail="{}",
            )
        )
        if action == "business-error":
            raise StationKitError("refused", ErrorCode.SOLD_OUT)
        if action == "crash":
            raise RuntimeError("bug")
        return action

    return command


def test_failures_roll_back_alone_and_batches_commit(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'w.db'}")
    writer = WriterThread(engine, bare_context(tmp_path), batch_max=64)
    gate = threading.Event()
    writer.submit(lambda conn: gate.wait(5))  # hold the writer so the rest forms one batch
    actions = ["a", "business-error", "b", "crash", "c"]
    futures = [writer.submit(add_record(a)) for a in actions]
    gate.set()
    assert futures[0].result(5) == "a" and futures[2].result(5) == "b"
    with pytest.raises(StationKitError):
        futures[1].result(5)
    with pytest.raises(RuntimeError):
        futures[3].result(5)
    writer.stop()
    with engine.connect() as conn:
        stored = conn.execute(select(t.audit.c.action).order_by(t.audit.c.audit_id)).scalars()
        assert list(stored) == ["a", "business-error", "b", "c"]
        assert conn.execute(select(func.count()).select_from(t.audit)).scalar_one() == 4
    engine.dispose()
