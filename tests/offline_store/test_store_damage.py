"""Damage found after opening: a bad page or a bad row is a StoreError naming the file, never a
traceback from inside sqlite3 or a record's checks."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from store_samples import admitted, open_store, ticket, ticket_id

from offline_store import StoreCorrupt, StoreError, UnitStore


def test_a_row_that_fails_its_checks_is_reported_as_damage(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with open_store(path) as store:
        store.tickets.upsert([ticket(1)])
        store.connection.execute("UPDATE tickets SET train = 'not a train'")
        with pytest.raises(StoreCorrupt, match="fails its checks") as caught:
            store.tickets.get(ticket_id(1))
    assert str(path) in str(caught.value)


def test_a_journal_row_that_fails_its_checks_is_reported_as_damage(tmp_path: Path) -> None:
    with open_store(tmp_path / "gate.db") as store:
        store.journal.append(admitted(1))
        store.connection.execute("PRAGMA ignore_check_constraints = ON")
        store.connection.execute("UPDATE passages SET mode = 'sleeping'")
        with pytest.raises(StoreCorrupt):
            store.journal.pending()


def test_garbage_pages_surface_only_as_store_errors(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with open_store(path) as store:
        store.tickets.upsert(ticket(number, holder=number) for number in range(1500))
        leaves = [
            page
            for (page,) in store.connection.execute(
                "SELECT pageno FROM dbstat WHERE name = 'tickets' AND pagetype = 'leaf'"
                " ORDER BY path"
            )
        ]
    rng = random.Random(5)
    with path.open("r+b") as file:  # spoil a third of the table's leaves, not its first
        for page in rng.sample(leaves[1:], len(leaves) // 3):
            file.seek((page - 1) * 4096)
            file.write(os.urandom(4096))
    failures: list[BaseException] = []
    with UnitStore.open(path) as store:
        for number in range(0, 1500, 7):
            try:
                store.tickets.get(ticket_id(number))
            except StoreError as exc:
                failures.append(exc)
    assert failures, "a quarter of the pages spoilt, and no lookup noticed"
    assert all(isinstance(failure, StoreCorrupt) for failure in failures)
    assert all(str(path) in str(failure) for failure in failures)


def test_a_schema_that_differs_from_the_steps_is_refused_at_open(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with open_store(path) as store:
        store.connection.execute("DROP INDEX tickets_by_holder")
    with pytest.raises(StoreCorrupt, match="tickets_by_holder") as caught:
        UnitStore.open(path)
    assert str(path) in str(caught.value)


def test_statistics_from_analyze_are_not_a_schema_change(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with open_store(path) as store:
        store.tickets.upsert([ticket(1, holder=1)])
        store.connection.execute("ANALYZE")
    with open_store(path) as store:
        assert store.tickets.count() == 1


def test_a_stored_time_out_of_range_is_reported_as_damage(tmp_path: Path) -> None:
    with open_store(tmp_path / "gate.db") as store:
        store.tickets.upsert([ticket(1)])
        store.connection.execute("UPDATE tickets SET departs_at = 9223372036854775807")
        with pytest.raises(StoreCorrupt):
            store.tickets.get(ticket_id(1))
