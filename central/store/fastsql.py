"""Hand-written SQL for the selling hot path, run on a driver cursor.

Building an expression for every statement costs SQLAlchemy several times
more than SQLite takes to run it; on the few statements of every sale that
matters. These statements run on a driver cursor inside SQLAlchemy's
transaction, written once with ``:name`` parameters (the style sqlite3 takes)
and rewritten once to ``%(name)s`` for psycopg. The rules of the rest of the
store hold: times go in as UTC.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

NAMED_PARAM = re.compile(r"(?<![:\w]):(\w+)")
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # what SQLAlchemy's SQLite DATETIME writes


class Statement:
    """One SQL statement with named parameters, ready for either driver."""

    def __init__(self, sql: str) -> None:
        self.sql = " ".join(sql.split())
        self._pyformat = NAMED_PARAM.sub(r"%(\1)s", self.sql)

    def text_for(self, conn: Connection) -> str:
        """The statement in the paramstyle of the connection's driver."""
        return self.sql if conn.dialect.name == "sqlite" else self._pyformat


def run(conn: Connection, statement: Statement, params: Mapping[str, Any]) -> None:
    """Execute one statement in the connection's transaction."""
    driver = _driver(conn)
    if isinstance(driver, sqlite3.Connection):
        driver.execute(statement.sql, params)  # its own cursor, closed when dropped
        return
    with _cursor(conn) as cursor:
        cursor.execute(statement.text_for(conn), params)


def fetch_one(
    conn: Connection, statement: Statement, params: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """Execute a query and return its first row as a tuple (None when empty)."""
    driver = _driver(conn)
    if isinstance(driver, sqlite3.Connection):
        row = driver.execute(statement.sql, params).fetchone()
    else:
        with _cursor(conn) as cursor:
            cursor.execute(statement.text_for(conn), params)
            row = cursor.fetchone()
    return None if row is None else tuple(row)


def fetch_all(
    conn: Connection, statement: Statement, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Execute a query and return every row as a tuple."""
    driver = _driver(conn)
    if isinstance(driver, sqlite3.Connection):
        return [tuple(row) for row in driver.execute(statement.sql, params).fetchall()]
    with _cursor(conn) as cursor:
        cursor.execute(statement.text_for(conn), params)
        return [tuple(row) for row in cursor.fetchall()]


def run_many(conn: Connection, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
    """Execute a statement once per row, as one driver call."""
    driver = _driver(conn)
    if isinstance(driver, sqlite3.Connection):
        driver.executemany(statement.sql, rows)
        return
    with _cursor(conn) as cursor:
        cursor.executemany(statement.text_for(conn), rows)


def _driver(conn: Connection) -> Any:
    """The driver's connection under SQLAlchemy's, inside its transaction."""
    return conn.connection.dbapi_connection


@contextmanager
def _cursor(conn: Connection) -> Iterator[Any]:
    """A driver cursor on the connection, inside SQLAlchemy's transaction."""
    cursor = _driver(conn).cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def db_time(conn: Connection, value: datetime) -> Any:
    """A timezone-aware time as the store keeps it (UTC text on SQLite)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; every time must be aware")
    if conn.dialect.name != "sqlite":
        return value
    if value.tzinfo is UTC:  # the clock's times: each new, so not worth a cache entry
        return _utc_text(value)
    return _local_text(value)


def read_time(value: Any) -> datetime:
    """A time as a driver cursor gives it back (UTC text on SQLite), timezone-aware."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if not isinstance(value, datetime):
        raise TypeError(f"not a stored time: {value!r}")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _utc_text(value: datetime) -> str:
    # isoformat writes the same text as SQLITE_TIME_FORMAT, several times faster
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


@lru_cache(maxsize=8192)
def _local_text(value: datetime) -> str:
    """Stop times (local, with an offset) repeat in every sale of a run: convert each once."""
    return _utc_text(value.astimezone(UTC))
