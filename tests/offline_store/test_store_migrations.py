"""Schema migrations: a test-only step after the shipped ones, as a future version will come.

And the shipped version 4 (the cached ticket's gate group) on a version-3 cache.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from store_samples import holder_tag, open_store, revocation, ticket

from offline_store import (
    MIGRATIONS,
    Migration,
    MigrationFailed,
    StoreTooNew,
    TicketRecord,
    UnitStore,
)
from offline_store.columns import ticket_key, to_day, to_seconds
from offline_store.migrations import check_steps, schema_version

SHIPPED = len(MIGRATIONS)  # the version a store of this code is at
NEXT = SHIPPED + 1


def copy_paid_tickets(conn: sqlite3.Connection) -> None:
    """A data step: one sale per cached ticket."""
    conn.execute("INSERT INTO extras (ticket_id, price_fen) SELECT ticket_id, 0 FROM tickets")


EXTRAS = Migration(
    version=NEXT,
    summary="test: a table of extras",
    statements=(
        "CREATE TABLE extras (ticket_id INTEGER PRIMARY KEY, price_fen INTEGER NOT NULL)",
        "CREATE INDEX extras_by_price ON extras (price_fen)",
    ),
    then=copy_paid_tickets,
)
WITH_EXTRAS = (*MIGRATIONS, EXTRAS)


def test_a_new_step_upgrades_an_old_store_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "tvm.db"
    with open_store(path) as store:
        store.tickets.upsert([ticket(1), ticket(2)])
    with UnitStore.open(path, migrations=WITH_EXTRAS) as store:
        conn = store.connection
        assert schema_version(conn) == NEXT
        assert conn.execute("SELECT count(*) FROM extras").fetchone() == (2,)
        assert store.tickets.get(ticket(1).ticket_id) is not None


def test_a_new_store_runs_every_step(tmp_path: Path) -> None:
    with UnitStore.open(tmp_path / "tvm.db", migrations=WITH_EXTRAS) as store:
        assert schema_version(store.connection) == NEXT


def test_the_upgraded_store_is_too_new_for_the_old_code(tmp_path: Path) -> None:
    path = tmp_path / "tvm.db"
    UnitStore.open(path, migrations=WITH_EXTRAS).close()
    newer = f"version {NEXT} is newer than this code's version {SHIPPED}"
    with pytest.raises(StoreTooNew, match=newer):
        UnitStore.open(path)


def test_a_failing_step_rolls_back_and_keeps_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "tvm.db"
    UnitStore.open(path).close()
    broken = Migration(
        NEXT, "test: broken", ("CREATE TABLE extras (id INTEGER)", "CREATE TABLE x (")
    )
    with pytest.raises(MigrationFailed) as caught:
        UnitStore.open(path, migrations=(*MIGRATIONS, broken))
    assert f"migration {NEXT} (test: broken)" in str(caught.value)
    assert str(path) in str(caught.value)
    with UnitStore.open(path) as store:
        conn = store.connection
        assert schema_version(conn) == SHIPPED
        assert conn.execute("SELECT name FROM sqlite_schema WHERE name = 'extras'").fetchall() == []
    with UnitStore.open(path, migrations=WITH_EXTRAS) as store:  # the fixed step runs
        assert schema_version(store.connection) == NEXT


def test_a_step_that_raises_in_python_rolls_back_too(tmp_path: Path) -> None:
    def refuse(conn: sqlite3.Connection) -> None:
        raise RuntimeError("no price list")

    step = Migration(NEXT, "test: refuses", ("CREATE TABLE extras (id INTEGER)",), refuse)
    path = tmp_path / "tvm.db"
    with pytest.raises(MigrationFailed, match="no price list"):
        UnitStore.open(path, migrations=(*MIGRATIONS, step))
    with UnitStore.open(path) as store:
        assert schema_version(store.connection) == SHIPPED


@pytest.mark.parametrize("versions", [(1, 3), (2,), (1, 1)])
def test_steps_must_be_numbered_in_order(versions: tuple[int, ...]) -> None:
    steps = [Migration(version, f"step {version}") for version in versions]
    with pytest.raises(ValueError, match=r"number them 1\.\.n"):
        check_steps(steps)


def test_the_shipped_steps_are_numbered_in_order() -> None:
    check_steps(MIGRATIONS)


def test_several_openers_of_a_new_store_run_each_step_once(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    runs: list[int] = []

    def count_run(conn: sqlite3.Connection) -> None:
        runs.append(1)

    counted = Migration(NEXT, "test: counted", ("CREATE TABLE extras (id INTEGER)",), count_run)
    errors: list[BaseException] = []

    def open_and_close() -> None:
        try:
            UnitStore.open(path, migrations=(*MIGRATIONS, counted)).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert runs == [1]


# ---------------------------------------------------------------- shipped: version 4

# How version 3's code wrote a cached ticket (version 4 adds gate_group after token).
V3_INSERT_TICKET = """
INSERT INTO tickets (ticket_id, event_id, train, service_day, from_station, to_station,
    departs_at, arrives_at, seat_class, coach, seat, key_id, holder_tag, token)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""


def write_as_version_3(store: UnitStore, record: TicketRecord) -> None:
    """Cache ``record`` the way version 3 did."""
    row = (
        ticket_key(record.ticket_id), record.event_id, record.train,
        to_day("service_date", record.service_date), record.from_station, record.to_station,
        to_seconds("departs_at", record.departs_at), to_seconds("arrives_at", record.arrives_at),
        record.seat_class.value, record.coach, record.seat, record.key_id, record.holder_tag,
        record.token,
    )  # fmt: skip
    with store.transaction():
        store.connection.execute(V3_INSERT_TICKET, row)


def test_version_4_keeps_a_version_3_cache_and_learns_groups_from_then_on(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    old, revoked = ticket(1, holder=7), ticket(2)
    with UnitStore.open(path, migrations=MIGRATIONS[:3]) as store:
        assert schema_version(store.connection) == 3
        write_as_version_3(store, old)
        write_as_version_3(store, revoked)
        store.revocations.record([revocation(2)])
    with UnitStore.open(path) as store:
        assert schema_version(store.connection) == SHIPPED
        kept = store.tickets.get(old.ticket_id)
        assert kept is not None and kept.record == old and kept.record.gate_group is None
        assert [c.record.ticket_id for c in store.tickets.by_holder_tag(holder_tag(7))] == [
            old.ticket_id
        ]
        gone = store.tickets.get(revoked.ticket_id)
        assert gone is not None and gone.is_revoked
        store.tickets.upsert([ticket(1, event_id=3, holder=7, gate_group="A3")])
        learnt = store.tickets.get(old.ticket_id)
        assert learnt is not None and learnt.record.gate_group == "A3"
        readable = store.connection.execute(
            "SELECT gate_group, revoked_reason FROM tickets_readable ORDER BY event_id"
        ).fetchall()
        assert readable == [(None, "refunded"), ("A3", None)]
