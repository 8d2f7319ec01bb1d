"""Opening a store: the file's mode, the connection's settings, and files that are not a store."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from store_samples import admitted, open_store, ticket

from offline_store import (
    MIGRATIONS,
    StoreCorrupt,
    StoreError,
    StoreErrorCode,
    StoreForeign,
    StoreNotSqlite,
    StoreTooNew,
    StoreUnopenable,
    UnitStore,
    open_connection,
    write_transaction,
)
from offline_store.connection import connect


def mode_of(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_store_and_its_log_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with open_store(tmp_path / "gate.db") as store:
            store.journal.append(admitted(1))
            for name in ("gate.db", "gate.db-wal", "gate.db-shm"):
                assert mode_of(tmp_path / name) == 0o600, name
    finally:
        os.umask(old)


def test_every_connection_is_durable_and_waits_for_the_lock(tmp_path: Path) -> None:
    conn = open_connection(tmp_path / "gate.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (5000,)
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    finally:
        conn.close()


def test_settings_reach_the_connection(tmp_path: Path) -> None:
    with open_store(tmp_path / "gate.db", busy_timeout_ms=250, wal_autocheckpoint_pages=0) as s:
        assert s.connection.execute("PRAGMA busy_timeout").fetchone() == (250,)
        assert s.connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)


def test_a_file_that_is_not_sqlite_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    path.write_bytes(b"this is a shift report, not a store\n" * 50)
    with pytest.raises(StoreNotSqlite) as caught:
        open_connection(path)
    assert str(path) in str(caught.value)
    assert caught.value.code is StoreErrorCode.NOT_SQLITE
    assert caught.value.path == path


def store_with_tickets(path: Path, count: int = 300) -> None:
    """A closed store holding ``count`` tickets (its log checkpointed and removed)."""
    with open_store(path) as store:
        store.tickets.upsert(ticket(number) for number in range(count))
    assert not path.with_name(path.name + "-wal").exists()


def test_a_truncated_store_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    store_with_tickets(path)
    size = path.stat().st_size
    os.truncate(path, size // 2 // 4096 * 4096)
    with pytest.raises(StoreCorrupt, match="truncated") as caught:
        open_connection(path)
    assert str(path) in str(caught.value)


def test_a_store_cut_mid_page_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    store_with_tickets(path)
    os.truncate(path, path.stat().st_size - 100)
    with pytest.raises(StoreCorrupt, match="not whole pages"):
        open_connection(path)


def test_a_store_cut_inside_its_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    store_with_tickets(path)
    os.truncate(path, 40)
    with pytest.raises(StoreCorrupt, match="not even a header"):
        open_connection(path)


def test_a_damaged_schema_page_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    store_with_tickets(path)
    with path.open("r+b") as file:  # page 1 past its 100-byte header holds the schema
        file.seek(100)
        file.write(b"\xa5" * 3000)
    with pytest.raises(StoreError) as caught:
        open_connection(path)
    assert caught.value.code is StoreErrorCode.CORRUPT
    assert str(path) in str(caught.value)


def test_garbage_in_a_data_page_is_found_by_the_integrity_check(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    store_with_tickets(path, 2000)
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // 2)
        file.write(os.urandom(4096))
    with open_store(path) as store, pytest.raises(StoreCorrupt) as caught:
        store.check_integrity()
    assert str(path) in str(caught.value)


def test_a_healthy_store_passes_the_integrity_check(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    store_with_tickets(path, 50)
    with open_store(path) as store:
        store.check_integrity()


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "central.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreForeign, match="another program"):
        open_connection(path)
    assert path.read_bytes() == before


def test_a_store_newer_than_the_code_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with open_store(path) as store:
        store.connection.execute("PRAGMA user_version = 7")
    before = path.read_bytes()
    with pytest.raises(StoreTooNew) as caught:
        open_connection(path)
    message, known = str(caught.value), len(MIGRATIONS)
    assert str(path) in message and "version 7" in message and f"version {known}" in message
    assert (caught.value.found, caught.value.known) == (7, known)
    assert path.read_bytes() == before


def test_an_empty_file_becomes_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    path.touch()  # what a crash between creating the file and the first step leaves
    with open_store(path) as store:
        assert store.tickets.count() == 0


@pytest.mark.parametrize("where", ["missing-dir/gate.db", "."])
def test_a_path_that_cannot_hold_a_store_is_refused(tmp_path: Path, where: str) -> None:
    with pytest.raises(StoreUnopenable) as caught:
        open_connection(tmp_path / where)
    assert isinstance(caught.value, OSError)


def test_a_reader_is_not_blocked_by_a_writer_in_another_thread(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    writer, reader = open_store(path), open_store(path)
    try:
        reader.tickets.upsert([ticket(1)])
        with writer.transaction():  # holds the write lock
            writer.tickets.upsert([ticket(2)])
            seen: list[object] = []
            thread = threading.Thread(
                target=lambda: seen.append(reader.tickets.get(ticket(1).ticket_id))
            )
            thread.start()
            thread.join(timeout=10)
            assert seen and seen[0] is not None
            assert reader.tickets.get(ticket(2).ticket_id) is None  # not committed yet
        assert reader.tickets.get(ticket(2).ticket_id) is not None
    finally:
        writer.close()
        reader.close()


def test_a_writer_that_waits_too_long_gets_store_busy(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with open_store(path) as holder, open_store(path, busy_timeout_ms=50) as waiter:
        with holder.transaction():
            holder.state.set_fact("shift", 1)
            with pytest.raises(StoreError) as caught:
                waiter.state.set_fact("shift", 2)
        assert caught.value.code is StoreErrorCode.BUSY
        assert isinstance(caught.value, TimeoutError)
        assert waiter.state.fact("shift") == 1


def test_an_inner_transaction_rolls_back_alone(tmp_path: Path) -> None:
    with open_store(tmp_path / "gate.db") as store:
        with store.transaction():
            store.cursors.set("station_feed", 1)
            with pytest.raises(RuntimeError), write_transaction(store.connection):
                store.cursors.set("keys", 9)
                raise RuntimeError("page refused")
        assert store.cursors.get("station_feed") == 1
        assert store.cursors.get("keys") is None


def test_an_exception_rolls_the_whole_transaction_back(tmp_path: Path) -> None:
    with open_store(tmp_path / "gate.db") as store:
        with pytest.raises(RuntimeError), store.transaction():
            store.tickets.upsert([ticket(1)])
            store.cursors.set("station_feed", 1)
            raise RuntimeError("sync task stopped")
        assert store.tickets.get(ticket(1).ticket_id) is None
        assert store.cursors.get("station_feed") is None


def test_connect_alone_does_not_migrate(tmp_path: Path) -> None:
    conn = connect(tmp_path / "gate.db")
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (0,)
    finally:
        conn.close()
    with UnitStore.open(tmp_path / "gate.db") as store:
        assert store.path == tmp_path / "gate.db"
