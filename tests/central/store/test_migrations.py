"""A store's layout: new stores laid out at the head, old ones adopted and upgraded, others refused.

Every test runs on SQLite and on PostgreSQL unless it says why not.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, String, Table, create_engine, inspect, text
from sqlalchemy.engine import make_url
from store_layouts import (
    LAYOUT3_SQL,
    LEGACY_ROWS,
    drop_everything,
    insert_rows,
    kept,
    make_legacy_store,
    records,
    snapshot,
    write_revision,
)

from central.store.database import connect, open_database
from central.store.migrations import (
    BASELINE,
    StoreLayoutError,
    alembic_config,
    head,
    layout_lock,
    migrate,
    ready,
    store_state,
)
from central.store.migrations.drafting import draft_revision
from central.store.tables import metadata


@pytest.fixture
def url(store_url: str) -> Iterator[str]:
    """The test's store; afterwards every table goes, Alembic's and the old layout's too."""
    yield store_url
    drop_everything(store_url)


def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    return found


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_a_new_store_is_laid_out_at_the_head_and_opens_again(url: str) -> None:
    open_database(url).dispose()
    assert revision_of(url) == head()
    assert set(metadata.tables) <= table_names(url)
    assert "store_schema" not in table_names(url)
    engine = open_database(url)
    with engine.connect() as conn:
        assert store_state(conn).revision == head()
    engine.dispose()


def test_a_version_row_left_without_tables_is_a_new_store(url: str) -> None:
    """A store whose tables were dropped keeps Alembic's row: it is laid out afresh."""
    open_database(url).dispose()
    engine = create_engine(url)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'gone'"))
    engine.dispose()
    open_database(url).dispose()
    assert revision_of(url) == head()


def test_a_store_from_before_migrations_is_refused_until_migrated(url: str) -> None:
    make_legacy_store(url)
    with pytest.raises(StoreLayoutError, match=r"made before migrations.*central migrate"):
        open_database(url)
    assert revision_of(url) is None, "nothing is migrated at open"


def test_migrate_adopts_a_store_from_before_migrations_and_keeps_its_data(url: str) -> None:
    make_legacy_store(url)
    insert_rows(url, LEGACY_ROWS)
    engine = connect(url)
    with engine.connect() as conn:
        before = records(conn, list(LEGACY_ROWS))
    done = migrate(engine)
    assert (done.before, done.after, done.adopted) == (BASELINE, head(), True)
    with engine.connect() as conn:  # later revisions may add columns; every old value stays
        assert kept(records(conn, list(LEGACY_ROWS)), before) == before
        assert [len(rows) for rows in before.values()] == [len(r) for r in LEGACY_ROWS.values()]
    engine.dispose()
    assert "store_schema" not in table_names(url)
    open_database(url).dispose()  # the code of today opens it


def test_migrate_is_idempotent(url: str) -> None:
    make_legacy_store(url)
    engine = connect(url)
    first = migrate(engine)
    with engine.connect() as conn:
        after_first = snapshot(conn)
    again = migrate(engine)
    assert (first.before, first.after) == (BASELINE, head())
    assert (again.before, again.after, again.adopted) == (head(), head(), False)
    with engine.connect() as conn:
        assert snapshot(conn) == after_first
    engine.dispose()


def test_migrate_lays_out_a_new_store(url: str) -> None:
    engine = connect(url)
    done = migrate(engine)
    engine.dispose()
    assert (done.before, done.after) == (None, head())
    assert revision_of(url) == head()


def test_a_store_newer_than_the_code_is_refused(url: str) -> None:
    open_database(url).dispose()
    engine = connect(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(StoreLayoutError, match=r"revision 0999, which this StationKit does not"):
        migrate(engine)
    with pytest.raises(StoreLayoutError, match="newer StationKit"):
        ready(engine)
    engine.dispose()
    assert revision_of(url) == "0999"


def test_a_store_behind_the_head_is_refused_with_what_to_do(url: str, tmp_path: Path) -> None:
    open_database(url).dispose()
    config = write_revision(tmp_path / "versions", "op.execute('SELECT 1')")
    engine = connect(url)
    with pytest.raises(StoreLayoutError) as refused:
        ready(engine, config)
    engine.dispose()
    message = str(refused.value)
    assert f"is at revision {head()}; this StationKit needs revision {head(config)}" in message
    assert "run `stationkit central migrate`" in message and "\n" not in message


@pytest.mark.parametrize(
    ("stamp", "said"), [("2", "layout version 2"), (None, "no layout version")]
)
def test_a_store_of_an_older_layout_cannot_be_migrated(
    url: str, stamp: str | None, said: str
) -> None:
    make_legacy_store(url)
    engine = connect(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM store_schema"))
        if stamp is not None:
            conn.execute(text(f"INSERT INTO store_schema VALUES ({stamp})"))
    with pytest.raises(StoreLayoutError, match=f"{said} from before migrations.*new store"):
        migrate(engine)
    engine.dispose()


def test_the_revisions_lay_out_what_the_tables_declare(url: str) -> None:
    """From empty through every revision: no difference from ``central.store.tables``."""
    engine = connect(url)
    config = alembic_config()
    with layout_lock(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_the_baseline_is_the_layout_of_before_migrations(tmp_path: Path) -> None:
    """SQLite only: its schema text is what the old code wrote, kept in layout3_sqlite.sql."""
    url = f"sqlite:///{tmp_path / 'central.db'}"
    engine = connect(url)
    config = alembic_config()
    with layout_lock(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, BASELINE)
    engine.dispose()
    with sqlite3.connect(str(make_url(url).database)) as db:
        made = db.execute("SELECT sql FROM sqlite_master WHERE name != 'alembic_version'")
        laid_out = {" ".join(str(sql).split()) for (sql,) in made if sql}
    lines = [line for line in LAYOUT3_SQL.read_text().splitlines() if not line.startswith("--")]
    wanted = {" ".join(part.split()) for part in "\n".join(lines).split(";") if part.strip()}
    assert len(wanted) == 18  # 12 tables, 6 indexes
    assert laid_out == wanted


def test_drafting_writes_the_next_revision_from_the_tables(tmp_path: Path) -> None:
    """SQLite only (a scratch store): a table added to the metadata becomes revision head+1."""
    extra = Table(
        "drafted", metadata, Column("id", Integer, primary_key=True), Column("x", String(5))
    )
    try:
        written = draft_revision("add drafted", into=tmp_path)
    finally:
        metadata.remove(extra)
    assert written is not None
    assert written.name == f"v{int(head()) + 1:04d}_add_drafted.py"
    code = written.read_text()
    assert f'down_revision: str | None = "{head()}"' in code
    assert 'op.create_table(\n        "drafted"' in code


def test_drafting_writes_nothing_when_the_tables_match(tmp_path: Path) -> None:
    assert draft_revision("nothing", into=tmp_path) is None
    assert list(tmp_path.iterdir()) == []
