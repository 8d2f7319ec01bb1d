"""Schema versions: an ordered list of steps, each run in its own transaction at open.

The file records its version in SQLite's ``user_version``. Opening runs every
step above it, one transaction per step that also sets the new version, so a
crash during a step leaves the previous version intact and the next open
runs the step again from the start. A file whose version is above the code's
last step is refused untouched (:class:`~offline_store.errors.StoreTooNew`).

Adding a step: append a :class:`Migration` with the next version to
``offline_store.schema.MIGRATIONS``. Its ``statements`` run in order and make
every change to tables, indexes and views; a ``then`` callable may move data
after them, on the same connection and in the same transaction. Never edit
a step once shipped: units in the field have already run it.

After migrating, :func:`check_schema` compares the file's tables, indexes
and views with what the steps' statements build in memory: a damaged schema
page can still parse, with a column renamed or an index gone, and every
later query would fail; it is refused at open instead.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from offline_store.connection import StoreConnection, translated_errors, write_transaction
from offline_store.errors import MigrationFailed, StoreCorrupt, StoreError, StoreTooNew


@dataclass(frozen=True)
class Migration:
    """One step from version ``version - 1`` to ``version``."""

    version: int
    summary: str
    statements: tuple[str, ...] = ()
    then: Callable[[sqlite3.Connection], None] | None = None


def check_steps(migrations: Sequence[Migration]) -> None:
    """The steps must be numbered 1, 2, 3, ... in order: a gap is a programming error."""
    for position, step in enumerate(migrations, start=1):
        if step.version != position:
            raise ValueError(f"migration {position} is numbered {step.version}; number them 1..n")


def schema_version(conn: sqlite3.Connection) -> int:
    """The version the file records (0 for a new file)."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    return int(version)


def migrate(conn: StoreConnection, migrations: Sequence[Migration]) -> int:
    """Bring the file up to the last step; returns the version it is at.

    Several connections may open a new file at once: each step re-reads the
    version under the write lock, so a step runs once however many race.
    """
    check_steps(migrations)
    with translated_errors(conn, reading_file=True):
        _refuse_newer(conn, schema_version(conn), len(migrations))
    for step in migrations:
        _run_step(conn, step, len(migrations))
    return len(migrations)


def check_schema(conn: StoreConnection, migrations: Sequence[Migration]) -> None:
    """StoreCorrupt unless the file's schema is exactly what ``migrations`` build."""
    expected = _reference_schema(tuple(migrations))
    with translated_errors(conn, reading_file=True):
        found = _schema_of(conn)
    if found != expected:
        names = sorted({row[1] for row in found ^ expected})
        raise StoreCorrupt(conn.store_path, f"the store's schema is damaged at {', '.join(names)}")


@functools.lru_cache(maxsize=8)
def _reference_schema(migrations: tuple[Migration, ...]) -> frozenset[tuple[str, ...]]:
    """The schema the steps' statements build in an empty in-memory database."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for step in migrations:
            for statement in step.statements:
                conn.execute(statement)
        return _schema_of(conn)
    finally:
        conn.close()


def _schema_of(conn: sqlite3.Connection) -> frozenset[tuple[str, ...]]:
    """Every table, index and view with its SQL, SQLite's own (statistics) aside."""
    rows = conn.execute(
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema"
        " WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    ).fetchall()
    return frozenset(tuple(row) for row in rows)


def _refuse_newer(conn: StoreConnection, found: int, known: int) -> None:
    """StoreTooNew when the file is ahead of this code."""
    if found > known:
        raise StoreTooNew(conn.store_path, found, known)


def _run_step(conn: StoreConnection, step: Migration, known: int) -> None:
    """Run ``step`` if the file is just below it, in one transaction with the new version."""
    try:
        with write_transaction(conn):
            found = schema_version(conn)
            _refuse_newer(conn, found, known)
            if found != step.version - 1:
                return
            for statement in step.statements:
                conn.execute(statement)
            if step.then is not None:
                step.then(conn)
            conn.execute(f"PRAGMA user_version = {int(step.version)}")
    except StoreError:
        raise
    except Exception as exc:
        raise MigrationFailed(
            conn.store_path,
            f"migration {step.version} ({step.summary}) failed and was rolled back: {exc}",
        ) from exc
