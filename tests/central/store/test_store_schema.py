"""A store is stamped with its layout version; a store of another layout is refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update

from central.store import tables as t
from central.store.database import SCHEMA_VERSION, StoreSchemaError, open_database

WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_new_store_is_stamped_and_opens_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.db'}"
    open_database(url).dispose()
    engine = open_database(url)
    with engine.connect() as conn:
        assert conn.execute(t.store_schema.select()).all() == [(SCHEMA_VERSION,)]
    engine.dispose()


def test_a_store_of_another_layout_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.db'}"
    engine = open_database(url)
    with engine.begin() as conn:
        conn.execute(update(t.store_schema).values(version=SCHEMA_VERSION + 1))
    engine.dispose()
    with pytest.raises(StoreSchemaError, match=f"layout version {SCHEMA_VERSION + 1}"):
        open_database(url)


def test_an_unstamped_store_with_runs_is_taken_for_the_first_layout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.db'}"
    engine = open_database(url)
    with engine.begin() as conn:
        conn.execute(delete(t.store_schema))
        conn.execute(
            insert(t.train_runs).values(
                train="G1",
                service_date="2026-12-01",
                spec="{}",
                departs_at=WHEN,
                presale_opens_at=WHEN,
                release_at=WHEN,
                created_at=WHEN,
            )
        )
    engine.dispose()
    with pytest.raises(StoreSchemaError, match=r"layout version 1;.*new store"):
        open_database(url)
