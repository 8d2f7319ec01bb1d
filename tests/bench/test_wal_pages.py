"""Counting a store's WAL frames by the table or index their page belongs to."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.wal_pages import report, wal_pages


def test_frames_are_counted_per_btree_and_commit(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    conn = sqlite3.connect(store, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # keep every frame in the log
    conn.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, holder TEXT)")
    conn.execute("CREATE INDEX ix_sales_holder ON sales (holder)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log starts empty
    for n in range(3):
        conn.execute("INSERT INTO sales (holder) VALUES (?)", (f"holder-{n}",))
    found = wal_pages(store)
    conn.close()
    assert found.commits == 3
    assert found.by_tree == {"sales": 3, "ix_sales_holder": 3}
    assert "ix_sales_holder" in report(found, sales=3).splitlines()[-1]


def test_a_store_without_a_log_has_no_frames(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    with sqlite3.connect(store) as conn:
        conn.execute("CREATE TABLE t (x)")
    found = wal_pages(store)
    assert found.frames == 0 and found.commits == 0
