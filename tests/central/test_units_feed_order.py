"""The feed's cursor when two HTTP processes write to one PostgreSQL store.

``stationkit central serve --workers 2`` without a writer process gives each
HTTP process a writer thread of its own, and on PostgreSQL they write side
by side. A feed event takes its id from a sequence when it is inserted, not
when it commits: a refund whose transaction is still open holds id N while
another process commits N + 1. A gate that reads the feed in between moves
its cursor past N, and never sees the refund: the refunded ticket keeps
opening its gates. The test holds the first refund open at its last step
(its stored answer waits on a row lock the test holds) to show it. It is
marked as an expected failure until appending feed events takes its turn
(``central.sales.feed``, outside the units' code): then it passes as is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Api, FakeClock
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, insert, text
from units_fixtures import id_number, load_small_run, sell

from central.api.app import create_app
from central.settings import CentralSettings
from central.store import tables as t

LOCK_WAIT_S = 20.0
OTHER_TRAIN = "G7303"


def revoked(api: Api, cursor: int) -> tuple[list[str], int]:
    response = api.get("/v1/stations/AAA/feed", params={"cursor": cursor})
    assert response.status_code == 200, response.text
    feed = response.json()
    return [r["ticket_id"] for r in feed["revocations"]], int(feed["cursor"])


def waiting_on_locks(engine: Engine) -> int:
    """Sessions of this test's database that wait on a lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + LOCK_WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited in vain for {what}")
        time.sleep(0.02)


def test_a_gate_following_its_cursor_sees_every_refund(
    api: Api, settings: CentralSettings, clock: FakeClock
) -> None:
    if settings.database_url.startswith("sqlite"):
        pytest.skip("on SQLite the HTTP processes' writers take turns through a file lock")
    load_small_run(api)
    load_small_run(api, OTHER_TRAIN)  # a refund locks its run: the two refunds are of two runs
    first = sell(api, "AAA", "CCC", id_number(1))
    second = sell(api, "AAA", "CCC", id_number(2), train=OTHER_TRAIN)
    _, cursor = revoked(api, 0)
    engine = create_engine(settings.database_url)
    held = engine.connect()
    held.begin()  # the first refund's stored answer will wait for this row
    row = {"scope": "operator", "key": "refund-first", "request_hash": "x" * 64}
    held.execute(
        insert(t.idempotency).values(**row, status_code=200, response="{}", created_at=clock.now)
    )
    answers: dict[str, Any] = {}
    try:
        with TestClient(create_app(settings, clock)) as other_client:
            other = Api(other_client)  # a second HTTP process with its own writer
            refunds = [
                threading.Thread(target=refund, args=(api, first, "refund-first", answers)),
                threading.Thread(target=refund, args=(other, second, "refund-second", answers)),
            ]
            refunds[0].start()
            wait_until(lambda: waiting_on_locks(engine) == 1, "the first refund to wait")
            refunds[1].start()  # commits at once, or waits its turn (2 waiting)
            wait_until(
                lambda: "refund-second" in answers or waiting_on_locks(engine) == 2,
                "the second refund",
            )
            seen, cursor = revoked(api, cursor)  # the gate syncs now
            held.rollback()
            for thread in refunds:
                thread.join(LOCK_WAIT_S)
    finally:
        held.close()
        engine.dispose()
    assert [answers[key].status_code for key in ("refund-first", "refund-second")] == [200, 200]
    later, _ = revoked(api, cursor)  # the gate's next sync
    assert sorted(seen + later) == sorted([first["ticket_id"], second["ticket_id"]])


def refund(api: Api, ticket: dict[str, Any], key: str, answers: dict[str, Any]) -> None:
    answers[key] = api.post(f"/v1/tickets/{ticket['ticket_id']}/refund", key=key)
